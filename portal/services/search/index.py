"""This machine's search index, kept current from the shared change log."""

from __future__ import annotations

import fcntl
import gc
import logging
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from portal.db import Database
from portal.services.search.documents import all_documents, changes_after, head_seq
from search import open_engine
from search.base import SearchBackend, catch_up

log = logging.getLogger(__name__)

# Beyond this many unindexed events a full rebuild is faster than replaying them.
REBUILD_GAP = 50_000
# After an index write fails (a full disk, a deleted directory), searches answer from the
# last good state and writing is tried again after this many seconds, not on every request.
STALE_RETRY_S = 10.0
# Up to this many unindexed events are applied within the request (well under a second);
# a longer gap, as after a bulk import, is applied by a background thread meanwhile.
CATCH_UP_INLINE = 2_000
# A process that has just found its index current does not ask the database again for this
# long, unless it wrote since: a change made elsewhere is searchable within this (plus the
# catch-up), and a search saves a database round trip.
HEAD_CHECK_S = 0.25


class SearchIndex:
    """One process's handle on its index: opened lazily, caught up before each query."""

    def __init__(self, db: Database, engine: str, directory: Path | None) -> None:
        """Remember where the index lives; nothing is opened yet."""
        self.db, self.engine, self.directory = db, engine, directory
        self._backend: SearchBackend | None = None
        self._lock = threading.Lock()
        self._rebuilding: threading.Thread | None = None
        self._stale_until = 0.0
        self._current_until = 0.0
        self._current_at_commits = -1
        self._current_seq = -1

    @property
    def backend(self) -> SearchBackend:
        """The open engine (a missing or corrupt index opens empty and is refilled)."""
        with self._lock:
            if self._backend is not None and self._directory_gone():
                log.warning("search index directory %s was removed; recreating it", self.directory)
                self._drop_backend()
            if self._backend is None:
                self._backend = open_engine(self.engine, self.directory)
            return self._backend

    def _directory_gone(self) -> bool:
        """True when an on-disk index's directory no longer exists."""
        return self.directory is not None and not self.directory.is_dir()

    def _drop_backend(self) -> None:
        """Close the engine (call holding `_lock`); the next use reopens it from disk."""
        if self._backend is not None:
            try:
                self._backend.close()
            except Exception:  # a broken index must not stop it being replaced
                log.exception("closing the search index failed")
            self._backend = None

    @property
    def rebuilding(self) -> bool:
        """True while a background rebuild or catch-up runs."""
        return self._rebuilding is not None and self._rebuilding.is_alive()

    def refresh(self) -> bool:
        """Apply the change log after the index's seq; False while the index is behind.

        An index that cannot be written (a full disk, a deleted or damaged directory) is
        stale, not fatal: searches answer from its last good state, the engine is reopened,
        and the change log is applied again later. Database errors still propagate.
        """
        now, commits = time.monotonic(), Database.commits
        if self._still_current(now, commits):
            return True
        if self.rebuilding or now < self._stale_until:
            return False
        for attempt in ("reopening it", "searching its last good state"):
            # whoosh leaves the files of a failed commit open until they are garbage-collected,
            # at any moment after the error; they are collected (and closed) here, quietly.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                try:
                    current = self._catch_up()
                    if current:
                        self._current_until = now + HEAD_CHECK_S
                        self._current_at_commits = commits
                        self._current_seq = self.backend.last_seq()
                    return current
                except SQLAlchemyError:
                    raise
                except Exception as exc:
                    # Text, not the exception: a kept traceback would keep the files open.
                    reason = f"{type(exc).__name__}: {exc}"
                self._recycle()
            log.error(
                "search index %s could not be updated (%s); %s", self.directory, reason, attempt
            )
        self._stale_until = time.monotonic() + STALE_RETRY_S
        return False

    def _still_current(self, now: float, commits: int) -> bool:
        """True when this process found the index current a moment ago and wrote nothing since.

        The seq check notices an index that was lost and reopened empty meanwhile; any
        error leaves the decision to the full refresh, which knows how to handle it.
        """
        if commits != self._current_at_commits or now >= self._current_until:
            return False
        try:
            return self.backend.last_seq() == self._current_seq
        except Exception:  # noqa: BLE001 - a damaged index is dealt with by the full refresh
            return False

    def _recycle(self) -> None:
        """Drop the engine, and close now the files a failed write left open (freeing space)."""
        with self._lock:
            self._drop_backend()
        gc.collect()

    def _catch_up(self) -> bool:
        """Apply a short gap now; rebuild or catch up in the background when far behind."""
        with self.db.session() as session:
            head = head_seq(session)
        gap = head - self.backend.last_seq()
        if gap > REBUILD_GAP:
            self.rebuild_in_background()
            return False
        if gap > CATCH_UP_INLINE:
            self.catch_up_in_background()
            return False
        if gap == 0:
            return True
        # At most one short batch here: a bulk import that commits between reading the head
        # and this line must not be replayed inside the request (seen: a 37 s search).
        with self.db.session() as session:
            batch = changes_after(session, self.backend.last_seq(), CATCH_UP_INLINE)
            if batch is not None:
                self.backend.apply(batch)
            behind = head_seq(session) > self.backend.last_seq()
        if behind:
            self.catch_up_in_background()
            return False
        return True

    def catch_up(self) -> int:
        """Apply the change log after the index's seq, however far behind (for the CLI)."""
        with self.db.session() as session:
            return catch_up(self.backend, lambda seq: changes_after(session, seq), 10**9)

    def rebuild(self) -> tuple[int, float]:
        """Rebuild the whole index from the database; return (documents, seconds)."""
        started = time.perf_counter()
        with self.db.session() as session:
            seq = head_seq(session)
            self.backend.rebuild(all_documents(session), seq)
        with self.db.session() as session:
            catch_up(self.backend, lambda after: changes_after(session, after))
        return self.backend.count(), time.perf_counter() - started

    def rebuild_in_background(self) -> None:
        """Start one background rebuild; searches keep answering from the old index."""
        with self._lock:
            if self.rebuilding:
                return
            log.warning("search index is %s behind the change log: rebuilding it", self.directory)
            self._rebuilding = threading.Thread(target=self._rebuild_logged, daemon=True)
            self._rebuilding.start()

    def catch_up_in_background(self) -> None:
        """Start one background catch-up; searches answer from the index as it stands."""
        with self._lock:
            if self.rebuilding:
                return
            self._rebuilding = threading.Thread(target=self._catch_up_logged, daemon=True)
            self._rebuilding.start()

    def _catch_up_logged(self) -> None:
        """Apply the change log batch by batch; leave it to another process that is at it."""
        started = time.perf_counter()
        try:
            with _only_one_process(self.directory, ".catch-up.lock") as ours:
                if not ours:
                    return
                while True:
                    with self.db.session() as session:
                        batch = changes_after(session, self.backend.last_seq())
                    if batch is None:
                        break
                    self.backend.apply(batch)
            log.info("search index caught up in %.1f s", time.perf_counter() - started)
        except Exception:
            log.exception("search index catch-up failed; the next search tries again")

    def _rebuild_logged(self) -> None:
        """A rebuild whose failure is logged, not raised into nowhere."""
        try:
            count, seconds = self.rebuild()
            log.warning("search index rebuilt: %d documents in %.1f s", count, seconds)
        except Exception:
            log.exception("search index rebuild failed")

    def close(self) -> None:
        """Release the engine's files."""
        with self._lock:
            self._drop_backend()


@contextmanager
def _only_one_process(directory: Path | None, name: str) -> Iterator[bool]:
    """Yield True holding an exclusive lock file in `directory`, False if another holds it."""
    if directory is None:
        yield True
        return
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / name, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
