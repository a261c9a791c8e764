"""What the app keeps for its requests (database, search index), and how a view reaches it."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from portal.db import Database
from portal.services.search.index import SearchIndex


def get_db() -> Database:
    """The database of the current app."""
    db: Database = current_app.extensions["portal.db"]
    return db


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
