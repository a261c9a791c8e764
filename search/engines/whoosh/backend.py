"""The whoosh engine: one index holding entities and records, swapped whole on rebuild.

On disk the directory holds `CURRENT` (the name of the live `gen-*` folder),
the generations, `.write.lock` and `.rebuild.lock`. The change-log seq is a
metadata document committed with the documents it describes. A rebuild fills
a new generation and points `CURRENT` at it in one rename; readers notice and
reopen. One searcher per backend serves one query at a time (a lock), so a
threaded server queues searches rather than sharing whoosh objects.
"""

from __future__ import annotations

import logging
import shutil
import threading
import warnings
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

from whoosh.filedb.filestore import FileStorage  # type: ignore[import-untyped]

from search.base import ChangeBatch, Doc, QueryRefused, SearchQuery, SearchResults, Suggestion
from search.documents import doc_fields, uid_of
from search.engines.whoosh.bulk import committed, fill_generation, fill_index
from search.engines.whoosh.queries import build_query
from search.engines.whoosh.schema import (
    SCHEMA,
    meta_document,
    open_checked,
    prepared_fields,
    ram_index,
    seq_of,
)
from search.engines.whoosh.searching import rank_entities, run_search
from search.engines.whoosh.view import SegmentCache, View
from search.query import ParsedQuery, checked_filters, paging, parse_query
from search.store import LOCK_TIMEOUT, Generations, SingleWriter, file_lock

log = logging.getLogger(__name__)
T = TypeVar("T")


class WhooshBackend:
    """The whoosh engine behind `SearchBackend`; `directory=None` keeps the index in memory."""

    def __init__(self, directory: Path | None) -> None:
        """Open the live index in `directory` (creating an empty one if missing or unreadable)."""
        self.directory = Path(directory) if directory is not None else None
        self._gens = Generations(self.directory) if self.directory is not None else None
        self._lock = threading.RLock()  # guards the reading state below
        # Taken before `_lock`, never after it.
        self._writing = SingleWriter(self._gens.root if self._gens is not None else None)
        self._segments = SegmentCache()
        self._ram = ram_index() if self._gens is None else None
        self._gen: str | None = None
        self._view: View | None = None
        self._writer_ix: tuple[str, Any] | None = None
        self._read(lambda view: None)

    # -- locks and generations -------------------------------------------------------------

    def _try_open(self, name: str | None) -> Any:
        """The index of generation `name`, or None (logged) when it cannot be read."""
        if name is None or self._gens is None:
            return None
        with warnings.catch_warnings():
            # whoosh leaves the file of an unreadable TOC open until its error is dropped.
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                return open_checked(self._gens.root / name)
            except Exception as exc:  # any unreadable index is rebuilt, never fatal
                reason = repr(exc)  # not `exc`: a log record would keep the file open
        log.warning("search index %s unreadable (%s); replacing it", name, reason)
        return None

    def _recover(self) -> None:
        """Publish an empty generation in place of a missing or unreadable one."""
        assert self._gens is not None
        with self._writing():
            bad = self._gens.current()
            if bad is not None and self._try_open(bad) is not None:
                return
            fresh = bad is None and not (self._gens.root / "CURRENT").exists()
            name = self._gens.create()
            FileStorage(str(self._gens.root / name)).create_index(SCHEMA)
            self._gens.publish(name)
            if bad is not None:
                self._gens.remove(keep=name, only=bad)
            level = logging.INFO if fresh else logging.WARNING
            log.log(level, "search index in %s is new and empty; rebuild it", self._gens.root)

    def _writer_index(self) -> Any:
        """The live index for writing (call while `_writing`)."""
        if self._gens is None:
            return self._ram
        name = self._gens.current()
        if self._writer_ix is None or self._writer_ix[0] != name:
            ix = self._try_open(name)
            if ix is None:
                self._recover()
                name = self._gens.current()
                ix = self._try_open(name)
            self._writer_ix = (name or "", ix)
        return self._writer_ix[1]

    # -- reading ---------------------------------------------------------------------------

    def _current_view(self) -> View | None:
        """A view of the live index, reopened if it changed; None if it needs recovery.

        A changed index gets a new searcher, not `Searcher.refresh()`: in
        whoosh-reloaded 2.7.5 a refreshed searcher keeps the replaced segments
        and returns deleted and updated documents twice.
        """
        ix = self._ram
        if self._gens is not None:
            name = self._gens.current()
            if self._view is None or name != self._gen:
                ix = self._try_open(name)
                if ix is None:
                    return None
                self._drop_view()
                self._gen = name
            else:
                ix = self._view.ix
        if self._view is None or self._view.ix is not ix or self._view.stale():
            self._drop_view()
            self._view = View(ix, self._segments)
        return self._view

    def _drop_view(self) -> None:
        """Close the cached searcher."""
        if self._view is not None:
            with suppress(Exception):
                self._view.searcher.close()
        self._view = None

    def _read(self, fn: Callable[[View], T]) -> T:
        """Run `fn` on a current view; recover or reopen once if the index went away."""
        for attempt in range(3):
            with self._lock:
                view = self._current_view()
                if view is not None:
                    try:
                        return fn(view)
                    except OSError as exc:
                        if attempt == 2:
                            raise
                        log.warning("search index changed under a reader (%r); reopening", exc)
                        self._drop_view()
                        continue
            self._recover()
        raise RuntimeError("search index could not be opened")

    # -- the SearchBackend interface -------------------------------------------------------

    def apply(self, batch: ChangeBatch) -> None:
        """Upsert and remove documents and record `batch.seq` in one commit.

        A batch older than the index (seq below the recorded one) is skipped.
        """
        with self._writing():
            ix = self._writer_index()
            with ix.searcher() as searcher:
                if batch.seq < seq_of(searcher):
                    log.info("skipping search batch %s: index is newer", batch.seq)
                    return
            removed = {f"{doc_type}:{key}" for doc_type, key in batch.removals}
            upserts = {uid_of(doc): doc for doc in batch.upserts}
            self._writer_ix = None  # reopened after a failure; kept again on success
            with committed(ix.writer(timeout=LOCK_TIMEOUT)) as writer:
                for uid, doc in upserts.items():
                    fields = doc_fields(doc)
                    if fields is None or uid in removed:
                        removed.add(uid)
                    else:
                        writer.update_document(**prepared_fields(fields))
                for uid in removed:
                    writer.delete_by_term("uid", uid)
                writer.update_document(**meta_document(batch.seq))
            if self._gens is not None:
                self._writer_ix = (self._gens.current() or "", ix)

    def last_seq(self) -> int:
        """The change-log seq the live index reflects (0 when empty or rebuilt from nothing)."""
        return self._read(lambda view: view.memo(("seq",), lambda: seq_of(view.searcher)))

    def count(self) -> int:
        """Entities and records in the live index."""
        return self._read(
            lambda view: (
                len(view.term_docs("doc_type", "entity"))
                + len(view.term_docs("doc_type", "record"))
            )
        )

    def close(self) -> None:
        """Close the searcher; the backend reopens on next use."""
        with self._lock:
            self._drop_view()

    def rebuild(self, docs: Iterable[Doc], seq: int) -> None:
        """Index every document into a new generation, then swap it in and delete the old."""
        if self._gens is None:
            ix = ram_index()
            fill_index(ix, docs, seq)
            with self._writing():
                self._ram = ix
            return
        with file_lock(self._gens.root / ".rebuild.lock", timeout=30 * 60):
            name = self._gens.create()
            try:
                ix = FileStorage(str(self._gens.root / name)).create_index(SCHEMA)
                fill_generation(ix, docs, seq)
            except BaseException:
                shutil.rmtree(self._gens.root / name, ignore_errors=True)
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
        checked_filters(q)
        return self._read(lambda view: run_search(view, q, parsed, page, per_page))

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Entities whose name or alias words start with the typed words, name starts first."""
        try:
            parsed = parse_query(prefix)
        except QueryRefused:
            return []
        if not parsed.terms or limit < 1:
            return []
        parsed = ParsedQuery(terms=parsed.terms)

        def run(view: View) -> list[Suggestion]:
            """The best entities as suggestions."""
            starts = view.name_starts(" ".join(parsed.terms))
            matched = view.match(build_query(parsed, "entity")) | starts
            matched &= view.term_docs("doc_type", "entity")
            out = []
            for docnum, _score in rank_entities(view, parsed, matched, min(limit, 100), False):
                stored = view.searcher.stored_fields(docnum)
                data = stored["data"]
                out.append(
                    Suggestion(
                        stored["key"],
                        data["name"],
                        data["kind"],
                        data["jurisdiction"],
                        data.get("sanction"),
                    )
                )
            return out

        return self._read(run)


def open_backend(directory: Path | None) -> WhooshBackend:
    """The whoosh backend for `directory` (None: in memory)."""
    return WhooshBackend(directory)
