"""Fixtures: a fresh app, database and data directory for every test.

SQLite by default (a new file per test). When DATABASE_URL names PostgreSQL the
same tests run there: the schema is created once and every table is emptied
after each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlmodel import SQLModel

import portal.models  # noqa: F401
from portal import create_app
from portal.db import Database, make_engine, normalise_url

PG_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith(("postgres", "postgresql"))


def _shared_data() -> Path:
    """The real data sets: ../shared/data beside this checkout, or beside the checkout it
    was cloned from (CI clones into a scratch folder), or PORTAL_SHARED_DATA."""
    import subprocess

    if os.environ.get("PORTAL_SHARED_DATA"):
        return Path(os.environ["PORTAL_SHARED_DATA"])
    root = Path(__file__).resolve().parent.parent
    candidates = [root.parent / "shared" / "data"]
    origin = subprocess.run(  # noqa: S603
        ["git", "-C", str(root), "config", "--get", "remote.origin.url"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if origin and "://" not in origin and ":" not in origin.split("/")[0]:
        candidates.append(Path(origin).resolve().parent / "shared" / "data")
    return next((path for path in candidates if path.is_dir()), candidates[0])


SHARED = _shared_data()

sqlite_only = pytest.mark.skipif(
    ON_POSTGRES, reason="checks SQLite itself; runs in the SQLite lane"
)


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str | None]:
    """On PostgreSQL, create the schema once for the whole run."""
    if not ON_POSTGRES:
        yield None
        return
    engine = make_engine(PG_URL)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    yield normalise_url(PG_URL)


@pytest.fixture
def database_url(tmp_path: Path, pg_schema: str | None) -> Iterator[str]:
    """The URL of an empty database for one test."""
    if pg_schema is None:
        url = f"sqlite:///{tmp_path / 'data' / 'portal.sqlite3'}"
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    yield pg_schema
    engine = make_engine(pg_schema)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """An app on its own empty database and data directory."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
            "SEARCH_INDEX": "memory",
            # The test client talks plain http; a Secure cookie would not come back.
            "SESSION_COOKIE_SECURE": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    yield app
    app.extensions["portal.search"].close()
    app.extensions["portal.db"].dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    """The app's database."""
    database: Database = app.extensions["portal.db"]
    return database


@pytest.fixture
def client(app: Flask):  # type: ignore[no-untyped-def]
    """A test client of the app."""
    return app.test_client()


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with tiny parameters: the same code path, a fraction of the time."""
    from argon2 import PasswordHasher

    from portal.services import accounts

    monkeypatch.setattr(
        accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
