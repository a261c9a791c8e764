"""Database engines and sessions: SQLite tuned for concurrent writers, or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, busy_timeout_ms: int = 5000) -> Engine:
    """Create the engine for a URL, with the settings each engine needs."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
        _tune_sqlite(engine, busy_timeout_ms)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _tune_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, foreign keys, busy timeout, and BEGIN IMMEDIATE for writing transactions.

    pysqlite's own transaction handling is switched off so that we emit BEGIN
    ourselves: a plain deferred BEGIN that later writes fails with "database is
    locked" under concurrent writers (PITFALLS.md), BEGIN IMMEDIATE waits instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


class Database:
    """One engine, with read sessions and writing sessions."""

    # Writing transactions committed by this process (any Database): a search index in the
    # same process sees at once that it must look at the change log again.
    commits = 0

    def __init__(self, url: str, busy_timeout_ms: int = 5000) -> None:
        """Open the engine for `url`."""
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, busy_timeout_ms)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_bind = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE")
            if self.is_sqlite
            else self.engine
        )

    def session(self) -> Session:
        """A session for reading (a deferred transaction on SQLite)."""
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One writing transaction: commit on success, roll back on any error."""
        with Session(self._write_bind, expire_on_commit=False) as session, session.begin():
            yield session
        Database.commits += 1

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
