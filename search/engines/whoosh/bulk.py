"""Filling a new whoosh index fast: the bulk writer and the parallel workers of a rebuild."""

from __future__ import annotations

import itertools
import multiprocessing
import operator
import os
import pickle
import queue
from array import array
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from whoosh.filedb.filestore import FileStorage  # type: ignore[import-untyped]
from whoosh.util.numeric import byte_to_length, length_to_byte  # type: ignore[import-untyped]
from whoosh.writing import SegmentWriter  # type: ignore[import-untyped]

from search.base import Doc
from search.documents import searchable_fields
from search.engines.whoosh.schema import meta_document, prepared_fields

T = TypeVar("T")


# A full rebuild: memory for postings per writing process before they spill to sorted runs
# on disk, worker processes (from this many documents; each writes one segment), and the
# documents handed to a worker at a time (through a file in the new generation's folder).
BULK_LIMIT_MB = 128
PARALLEL_MIN_DOCS = 50_000
MAX_WORKERS = 4
BATCH_DOCS = 2_000
# Fields whose values are mostly unique are analysed afresh; the others (titles, agency
# and entity names on records, statutes, facets) once per distinct value.
UNCACHED_FIELDS = frozenset({"uid", "key", "ident", "summary", "name", "aliases", "name_ngram"})
MAX_CACHED_VALUES = 50_000


@contextmanager
def committed(writer: Any) -> Iterator[Any]:
    """Yield a writer, then commit; on any error cancel it, so the last commit stays live."""
    try:
        yield writer
        writer.commit()
    except BaseException:
        with suppress(Exception):
            writer.cancel()
        raise


class _BulkWriter(SegmentWriter):  # type: ignore[misc]
    """A writer filling a new, empty index: it writes what `SegmentWriter` writes, faster.

    A repeated field value is analysed once. The field lengths each posting needs
    at commit are kept in memory: whoosh 2.7.5 reads them back from the length
    column per posting, and stats a file per posting of a field without one.
    """

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        """Open a writer on `ix`, which must hold no segments yet."""
        super().__init__(ix, **kwargs)
        if self.segments:
            self.cancel()
            raise ValueError("a bulk writer only fills a new index")
        self._analysed: dict[tuple[str, Any], tuple[int, tuple[tuple[Any, ...], ...]]] = {}
        self._lengths: dict[str, array[int]] = {}

    def _analyse(
        self, name: str, field: Any, value: Any
    ) -> tuple[int, tuple[tuple[Any, ...], ...]]:
        """The field's length and postings (term, frequency, weight, value) for a value."""
        cached = name not in UNCACHED_FIELDS and isinstance(value, str)
        found = self._analysed.get((name, value)) if cached else None
        if found is None:
            items = tuple((t, f, w * 1.0, v) for t, f, w, v in field.index(value))
            found = (sum(item[1] for item in items) if field.scorable else 0, items)
            if cached:
                if len(self._analysed) >= MAX_CACHED_VALUES:
                    self._analysed.clear()
                self._analysed[(name, value)] = found
        return found

    def add_document(self, **fields: Any) -> None:
        """Add one document (`SegmentWriter.add_document` without boosts, vectors or spelling)."""
        self._check_state()
        perdoc, docnum, add_posting = self.perdocwriter, self.docnum, self.pool.add
        perdoc.start_doc(docnum)
        try:
            for name in sorted(fields):
                value = fields[name]
                if value is None:
                    continue
                field = self.schema[name]
                length = 0
                if field.indexed:
                    length, items = self._analyse(name, field, value)
                    for tbytes, _freq, weight, vbytes in items:
                        add_posting((name, tbytes, docnum, weight, vbytes))
                    if length:
                        self._keep_length(name, docnum, length)
                perdoc.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _keep_length(self, name: str, docnum: int, length: int) -> None:
        """Remember a field's length in a document as the length column will read it."""
        table = self._lengths.setdefault(name, array("I"))
        if len(table) < docnum:
            table.extend(itertools.repeat(0, docnum - len(table)))
        table.append(byte_to_length(length_to_byte(length)))

    def _flush_segment(self) -> None:
        """Write the postings, with the field lengths from memory."""
        self.perdocwriter.close()
        lengths = _Lengths(self._lengths) if self.codec.length_stats else None
        self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()


class _Lengths:
    """Field lengths by document, as `add_postings` asks for them (0: none)."""

    def __init__(self, tables: dict[str, array[int]]) -> None:
        """Keep the tables."""
        self._tables = tables

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        """A field's length in a document."""
        table = self._tables.get(fieldname)
        return table[docnum] if table is not None and docnum < len(table) else default


def _fill_in_workers(
    ix: Any, fields: Iterator[dict[str, Any]], expected: int, workers: int
) -> None:
    """Index the documents' fields in worker processes, one segment of consecutive ones each.

    This process reads the documents and hands them over in batch files; its own
    writer holds the index lock and commits the workers' segments in order.
    """
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    jobs = [context.Queue() for _ in range(workers)]
    writer = _BulkWriter(ix, limitmb=1)
    folder = Path(writer.temp_storage().folder)
    procs = [
        context.Process(
            target=_segment_worker,
            args=(ix.storage.folder, ix.indexname, part, jobs[part], results),
            daemon=True,
        )
        for part in range(workers)
    ]
    try:
        for proc in procs:
            proc.start()
        per_worker, sent = -(-expected // workers), 0
        for batch in _batches(fields, BATCH_DOCS):
            path = folder / f"batch-{sent:012d}.pickle"
            with open(path, "wb") as handle:
                pickle.dump(batch, handle, pickle.HIGHEST_PROTOCOL)
            jobs[min(sent // per_worker, workers - 1)].put(str(path))
            sent += len(batch)
        for job in jobs:
            job.put(None)
        segments = _segments_of(results, procs)
        writer._close_segment()
        writer._commit_toc(segments)
        writer._finish()
    except BaseException:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        with suppress(Exception):
            writer.cancel()
        raise
    finally:
        for proc in procs:
            proc.join(10)


def _batches(items: Iterator[T], size: int) -> Iterator[list[T]]:
    """Lists of up to `size` consecutive items."""
    while batch := list(itertools.islice(items, size)):
        yield batch


def _segments_of(results: Any, procs: list[Any]) -> list[Any]:
    """The workers' segments in their order (raising if a worker failed or died)."""
    found: dict[int, Any] = {}
    while len(found) < len(procs):
        try:
            part, segment, error = results.get(timeout=1.0)
        except queue.Empty:
            if any(proc.exitcode not in (None, 0) for proc in procs):
                raise RuntimeError("a search index worker process died") from None
            continue
        if error is not None:
            raise RuntimeError(f"a search index worker failed: {error}")
        found[part] = segment
    return [found[part] for part in sorted(found) if found[part] is not None]


def _segment_worker(folder: str, indexname: str, part: int, jobs: Any, results: Any) -> None:
    """Index batch files from `jobs` into one new segment and report it (a worker process)."""
    try:
        ix = FileStorage(folder).open_index(indexname)
        writer = _BulkWriter(ix, _lk=False, limitmb=BULK_LIMIT_MB)
        for path in iter(jobs.get, None):
            with open(path, "rb") as handle:
                # Written by the rebuilding process into the new generation's own folder.
                batch = pickle.load(handle)  # noqa: S301
            os.remove(path)
            for values in batch:
                writer.add_document(**values)
        if writer._added:
            results.put((part, writer._finalize_segment(), None))
        else:
            writer._close_segment()
            results.put((part, None, None))
    except BaseException as exc:
        results.put((part, None, repr(exc)))
        raise


def fill_index(ix: Any, docs: Iterable[Doc], seq: int, workers: int = 1) -> None:
    """Add every document and the seq to a new index in one bounded-memory commit.

    With `workers` > 1 (on disk) the documents are split into that many runs of
    consecutive documents, each indexed into its own segment by a worker process,
    so the index keeps the documents' order.
    """
    fields = index_fields(docs, seq)
    if workers > 1:
        _fill_in_workers(ix, fields, operator.length_hint(docs) + 1, workers)
        return
    with committed(_BulkWriter(ix, limitmb=BULK_LIMIT_MB)) as writer:
        for values in fields:
            writer.add_document(**values)


def fill_generation(ix: Any, docs: Iterable[Doc], seq: int) -> None:
    """Fill a new index on disk, in worker processes when there are many documents."""
    fill_index(ix, docs, seq, rebuild_workers(operator.length_hint(docs)))


def index_fields(docs: Iterable[Doc], seq: int) -> Iterator[dict[str, Any]]:
    """Each searchable document's fields (once per uid), then the metadata document."""
    for fields in searchable_fields(docs):
        yield prepared_fields(fields)
    yield meta_document(seq)


def rebuild_workers(expected: int) -> int:
    """How many worker processes a rebuild of about `expected` documents on disk uses."""
    if expected < PARALLEL_MIN_DOCS:
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))
