"""What every `portal` command shares: an app for the command and its database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from portal.app import create_app
from portal.db import Database


@contextmanager
def command_app() -> Iterator[Flask]:
    """The app for one command, its database connections closed afterwards."""
    app = create_app()
    try:
        yield app
    finally:
        app.extensions["portal.search"].close()
        db_of(app).dispose()


def db_of(app: Flask) -> Database:
    """The database of an app built for a command."""
    db: Database = app.extensions["portal.db"]
    return db
