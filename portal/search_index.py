"""This machine's search index, kept current from the shared change log."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from flask import Flask, current_app

from portal.db import Database
from portal.services.indexing import all_documents, changes_after, head_seq
from search.base import SearchBackend, catch_up

log = logging.getLogger(__name__)

# Beyond this many unindexed events a full rebuild is faster than replaying them.
REBUILD_GAP = 50_000


def open_engine(name: str, directory: Path | None) -> SearchBackend:
    """The configured engine on a directory (None: in memory, for tests)."""
    if name == "whoosh":
        from search.whoosh_backend import open_backend

        return open_backend(directory)
    raise ValueError(f"unknown search backend {name!r} (PORTAL_SEARCH_BACKEND)")


class SearchIndex:
    """One process's handle on its index: opened lazily, caught up before each query."""

    def __init__(self, db: Database, engine: str, directory: Path | None) -> None:
        """Remember where the index lives; nothing is opened yet."""
        self.db, self.engine, self.directory = db, engine, directory
        self._backend: SearchBackend | None = None
        self._lock = threading.Lock()
        self._rebuilding: threading.Thread | None = None

    @property
    def backend(self) -> SearchBackend:
        """The open engine (a missing or corrupt index opens empty and is refilled)."""
        with self._lock:
            if self._backend is None:
                self._backend = open_engine(self.engine, self.directory)
            return self._backend

    @property
    def rebuilding(self) -> bool:
        """True while a background rebuild runs."""
        return self._rebuilding is not None and self._rebuilding.is_alive()

    def refresh(self) -> bool:
        """Apply the change log after the index's seq; False while a rebuild is running."""
        if self.rebuilding:
            return False
        with self.db.session() as session:
            head = head_seq(session)
        if head - self.backend.last_seq() > REBUILD_GAP:
            self.rebuild_in_background()
            return False
        with self.db.session() as session:
            catch_up(self.backend, lambda seq: changes_after(session, seq))
        return True

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

    def _rebuild_logged(self) -> None:
        """A rebuild whose failure is logged, not raised into nowhere."""
        try:
            count, seconds = self.rebuild()
            log.warning("search index rebuilt: %d documents in %.1f s", count, seconds)
        except Exception:
            log.exception("search index rebuild failed")

    def close(self) -> None:
        """Release the engine's files."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None


def init_search(app: Flask) -> SearchIndex:
    """Attach the index handle to the app (PORTAL_SEARCH_INDEX=memory keeps it in memory)."""
    directory = None
    if app.config.get("SEARCH_INDEX", "disk") != "memory":
        directory = Path(app.config["DATA_DIR"]) / "index"
    index = SearchIndex(app.extensions["portal.db"], app.config["SEARCH_BACKEND"], directory)
    app.extensions["portal.search"] = index
    return index


def get_index() -> SearchIndex:
    """The current app's index handle."""
    index: SearchIndex = current_app.extensions["portal.search"]
    return index
