"""The tantivy engine: the same documents, matching and ranking as whoosh, for large registers.

On disk the directory holds `CURRENT`, the `gen-*` generations and the
`.write.lock`/`.rebuild.lock` files (see `search.store.Generations`). The
change-log seq is a metadata document committed with the documents it
describes; readers reload when `CURRENT` or the generation's `meta.json` change.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import tantivy
from tantivy import Query

from search.base import ChangeBatch, Doc, QueryRefused, SearchQuery, SearchResults, Suggestion
from search.documents import doc_fields, searchable_fields, uid_of
from search.engines.tantivy.queries import any_of, term
from search.engines.tantivy.run import Run, count_of, data_of, run_search, run_suggest
from search.engines.tantivy.schema import (
    META_UID,
    SCHEMA,
    SCHEMA_VERSION,
    index_document,
    meta_document,
)
from search.query import ParsedQuery, checked_filters, paging, parse_query
from search.store import Generations, SingleWriter, file_lock

log = logging.getLogger(__name__)
T = TypeVar("T")


WRITE_HEAP = 15_000_000  # tantivy's least arena per writer thread
REBUILD_HEAP = 256_000_000
MEMO_SIZE = 256


@dataclass(frozen=True)
class _View:
    """An open index, a searcher over the state it was last reloaded at, and answers that
    stay right until the next reload (the seq, listings without search text)."""

    index: tantivy.Index
    searcher: tantivy.Searcher
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False)

    def remember(self, key: Hashable, make: Callable[[], T]) -> T:
        """`make()`, computed once per view (all forgotten past MEMO_SIZE answers)."""
        if key not in self.memo:
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            self.memo[key] = make()
        value: T = self.memo[key]
        return value


def _new_index(path: Path | None) -> tantivy.Index:
    """A new empty index in `path` (None: in memory), reloaded only when told."""
    index = tantivy.Index(SCHEMA, path=None if path is None else str(path), reuse=False)
    index.config_reader(reload_policy="manual")
    return index


def _meta_of(searcher: tantivy.Searcher) -> dict[str, Any] | None:
    """The metadata document's data, or None when there is none."""
    hits = searcher.search(term("uid", META_UID), 1).hits
    if not hits:
        return None
    return data_of(searcher.doc(hits[0][1]))


def _seq_of(searcher: tantivy.Searcher) -> int:
    """The seq the metadata document records (0 when there is none)."""
    meta = _meta_of(searcher)
    return int(meta["seq"]) if meta else 0


def _open_checked(path: Path) -> tantivy.Index:
    """Open the index in `path`, reading its metadata and one document to prove it sound."""
    if not tantivy.Index.exists(str(path)):
        raise ValueError("no index there")
    index = tantivy.Index(SCHEMA, path=str(path))
    index.config_reader(reload_policy="manual")
    searcher = index.searcher()
    meta = _meta_of(searcher)
    if meta is not None and meta.get("schema") != SCHEMA_VERSION:
        raise ValueError("built by another schema version")
    searcher.search(Query.all_query(), 1)
    return index


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when a file is replaced or rewritten (None: missing)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _commit(
    target: tantivy.Index | tantivy.IndexWriter,
    deletes: Iterable[str],
    docs: Iterable[tantivy.Document],
    heap: int = WRITE_HEAP,
) -> None:
    """Delete by uid, add, and commit as one; on any error roll back.

    Given an index, a writer is made and released (tantivy's lock with it, merges
    done) before returning; given a writer, it is kept.
    """
    writer = (
        target.writer(heap, 0 if heap > WRITE_HEAP else 1)
        if isinstance(target, tantivy.Index)
        else target
    )
    try:
        for uid in deletes:
            writer.delete_documents_by_term("uid", uid)
        for doc in docs:
            writer.add_document(doc)
        writer.commit()
    except BaseException:
        with suppress(Exception):
            writer.rollback()
        raise
    finally:
        if writer is not target:
            with suppress(Exception):
                writer.wait_merging_threads()


def _fill(index: tantivy.Index, docs: Iterable[Doc], seq: int) -> None:
    """Add every document (the first of a repeated key) and the seq in one commit."""

    def documents() -> Iterator[tantivy.Document]:
        """The documents to add, converted as they are read."""
        for fields in searchable_fields(docs):
            yield index_document(fields)
        yield meta_document(seq)

    _commit(index, (), documents(), REBUILD_HEAP)


class TantivyBackend:
    """The tantivy engine behind `SearchBackend`; `directory=None` keeps the index in memory."""

    def __init__(self, directory: Path | None) -> None:
        """Open the live index in `directory` (creating an empty one if missing or unreadable)."""
        self.directory = Path(directory) if directory is not None else None
        self._gens = Generations(self.directory) if self.directory is not None else None
        self._lock = threading.RLock()  # guards the reading state below
        # Taken before `_lock`, never after it.
        self._writing = SingleWriter(self._gens.root if self._gens is not None else None)
        self._ram = _new_index(None) if self._gens is None else None
        # In memory one writer is kept (a commit costs a fifth); on disk each write makes
        # its own, so that other processes can take tantivy's writer lock in turn.
        self._ram_writer: tantivy.IndexWriter | None = None
        self._gen: str | None = None
        self._stamps: tuple[Any, Any] = (None, None)  # of CURRENT and of the live meta.json
        self._view: _View | None = None
        self._read(lambda view: None)

    def _open(self, name: str | None) -> tantivy.Index | None:
        """The index of generation `name`, or None (logged) when it cannot be read."""
        if name is None or self._gens is None:
            return None
        try:
            return _open_checked(self._gens.root / name)
        except BaseException as exc:  # a Rust panic on a damaged file is a BaseException
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            reason = repr(exc)
        log.warning("search index %s unreadable (%s); replacing it", name, reason)
        return None

    def _recover(self) -> None:
        """Publish an empty generation in place of a missing or unreadable one."""
        assert self._gens is not None
        with self._writing():
            bad = self._gens.current()
            if bad is not None and self._open(bad) is not None:
                return
            fresh = bad is None and not (self._gens.root / "CURRENT").exists()
            name = self._gens.create()
            _new_index(self._gens.root / name)
            self._gens.publish(name)
            if bad is not None:
                self._gens.remove(keep=name, only=bad)
            level = logging.INFO if fresh else logging.WARNING
            log.log(level, "search index in %s is new and empty; rebuild it", self._gens.root)

    def _current_view(self) -> _View | None:
        """A view of the live index, reopened or reloaded if it changed (call holding `_lock`).

        None when the live generation cannot be read and needs recovery.
        """
        if self._gens is None:
            assert self._ram is not None
            if self._view is None:
                self._reload(self._ram)
            return self._view
        pointer = _stamp(self._gens.root / "CURRENT")
        if self._view is None or pointer != self._stamps[0]:
            name = self._gens.current()
            if self._view is None or name != self._gen:
                meta = _stamp(self._gens.root / str(name) / "meta.json")
                index = self._open(name)
                if index is None:
                    return None
                self._gen, self._view = name, _View(index, index.searcher())
                self._stamps = (pointer, meta)
            self._stamps = (pointer, self._stamps[1])
        meta = _stamp(self._gens.root / str(self._gen) / "meta.json")
        if meta != self._stamps[1]:
            self._reload(self._view.index)
            self._stamps = (pointer, meta)
        return self._view

    def _reload(self, index: tantivy.Index) -> None:
        """Take in the index's latest commit (call holding `_lock`)."""
        index.reload()
        self._view = _View(index, index.searcher())

    def _read(self, fn: Callable[[_View], T]) -> T:
        """Run `fn` on a current view; recover or reopen if the index went away."""
        for attempt in range(3):
            with self._lock:
                view = self._current_view()
            if view is None:
                self._recover()
                continue
            try:
                return fn(view)
            except QueryRefused:
                raise
            except (OSError, ValueError) as exc:
                if attempt == 2:
                    raise
                log.warning("search index changed under a reader (%r); reopening", exc)
                with self._lock:
                    self._drop()
        raise RuntimeError("search index could not be opened")

    def _drop(self) -> None:
        """Forget the open index (call holding `_lock`); in memory, only its searcher."""
        self._view = None
        if self._gens is not None:
            self._gen, self._stamps = None, (None, None)

    # -- the SearchBackend interface -------------------------------------------------------

    def apply(self, batch: ChangeBatch) -> None:
        """Upsert and remove documents and record `batch.seq` in one commit.

        A batch older than the index (seq below the recorded one) is skipped.
        """
        removed = {f"{doc_type}:{key}" for doc_type, key in batch.removals}
        added: dict[str, tantivy.Document] = {}
        for uid, doc in {uid_of(doc): doc for doc in batch.upserts}.items():
            fields = doc_fields(doc)
            if fields is None or uid in removed:
                removed.add(uid)
            else:
                added[uid] = index_document(fields)
        with self._writing():
            index = self._read(lambda view: view.index)
            index.reload()
            if batch.seq < _seq_of(index.searcher()):
                log.info("skipping search batch %s: index is newer", batch.seq)
                return
            if self._gens is None and self._ram_writer is None:
                self._ram_writer = index.writer(WRITE_HEAP, 1)
            deletes = [*removed, *added, META_UID]
            _commit(self._ram_writer or index, deletes, [*added.values(), meta_document(batch.seq)])
            with self._lock:
                if self._view is not None and self._view.index is index:
                    self._reload(index)

    def last_seq(self) -> int:
        """The change-log seq the live index reflects (0 when empty or rebuilt from nothing)."""
        return self._read(lambda view: view.remember("seq", lambda: _seq_of(view.searcher)))

    def count(self) -> int:
        """Entities and records in the live index."""
        types = any_of([term("doc_type", "entity"), term("doc_type", "record")])
        return self._read(lambda view: count_of(view.searcher.search(types, 1, count=True)))

    def close(self) -> None:
        """Let go of the index files; the backend reopens on next use."""
        with self._lock:
            self._drop()

    def rebuild(self, docs: Iterable[Doc], seq: int) -> None:
        """Index every document into a new generation, then swap it in and delete the old."""
        if self._gens is None:
            index = _new_index(None)
            _fill(index, docs, seq)
            with self._writing(), self._lock:
                self._ram, self._view, self._ram_writer = index, None, None
            return
        root = self._gens.root
        with file_lock(root / ".rebuild.lock", timeout=30 * 60):
            name = self._gens.create()
            try:
                _fill(_new_index(root / name), docs, seq)
            except BaseException:
                shutil.rmtree(root / name, ignore_errors=True)
                raise
            with self._writing():
                self._gens.publish(name)
            with self._lock:
                self._current_view()
            with self._writing():
                self._gens.remove(keep=self._gens.current() or name)

    def query(self, q: SearchQuery) -> SearchResults:
        """Run a search: text, filters, facets, sort and one page, with highlights."""
        parsed = parse_query(q.text)
        page, per_page = paging(q)
        filters = tuple((f, tuple(v)) for f, v in checked_filters(q))
        listing = ("list", q.doc_type, q.sort, filters, page, per_page, q.with_facets)

        def run(view: _View) -> SearchResults:
            """The search, or a listing remembered until the index changes."""
            search = functools.partial(run_search, Run(view.searcher, q.doc_type), q, parsed)
            if parsed.empty and not parsed.typed:
                return view.remember(listing, lambda: search(page, per_page))
            return search(page, per_page)

        return self._read(run)

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Entities whose name or alias words start with the typed words, name starts first."""
        try:
            parsed = parse_query(prefix)
        except QueryRefused:
            return []
        if not parsed.terms or limit < 1:
            return []
        terms = ParsedQuery(terms=parsed.terms)
        return self._read(lambda view: run_suggest(Run(view.searcher, "entity"), terms, limit))


def open_backend(directory: Path | None) -> TantivyBackend:
    """The tantivy backend for `directory` (None: in memory)."""
    return TantivyBackend(directory)
