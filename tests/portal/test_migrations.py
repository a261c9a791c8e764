"""Alembic's migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from portal.db import Database, make_engine
from portal.migrate import upgrade
from tests.conftest import ON_POSTGRES, PG_URL


@pytest.fixture
def empty_url(tmp_path):
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"portal_mig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_to_head_matches_the_models(empty_url):
    db = Database(empty_url)
    upgrade(db)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    db.dispose()
    assert diff == []


def test_upgrade_creates_every_table_and_is_repeatable(empty_url):
    db = Database(empty_url)
    upgrade(db)
    upgrade(db)  # a second `portal init` changes nothing and does not fail
    tables = set(inspect(db.engine).get_table_names())
    db.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrading_a_register_that_holds_data_keeps_it(empty_url):
    db = Database(empty_url)
    upgrade(db, "0001")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO jurisdiction (code, name) VALUES ('GB', 'United Kingdom')"))
        conn.execute(
            text(
                "INSERT INTO agency (slug, name, jurisdiction_code, categories, "
                "requires_second_approval, created_at) VALUES ('ico', 'ICO', 'GB', "
                "'[\"data_protection\"]', false, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO entity (slug, kind, name, name_key, jurisdiction_code, trusted, "
                "watchlist, created_at, updated_at) VALUES ('acme', 'business', 'Acme', 'acme', "
                "'GB', false, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO record (ref, entity_id, agency_id, nature, category, severity, title, "
                "decided_on, status, revision, created_at, updated_at) VALUES ('R-2026-000001', "
                "1, 1, 'violation', 'data_protection', 'minor', 'T', '2026-01-01', 'published', 1, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    upgrade(db)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM record")).scalar() == 1
        assert conn.execute(text("SELECT requires_totp FROM agency")).scalar() in (False, 0)
        assert conn.execute(text("SELECT merged_into_id FROM entity")).scalar() is None
        if db.is_sqlite:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()
