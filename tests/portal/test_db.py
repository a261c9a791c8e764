"""The database layer: SQLite tuned for concurrent writers, one chain under contention."""

from __future__ import annotations

import multiprocessing

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal.db import Database
from portal.models import Entity
from portal.services.audit import verify_chain
from tests.conftest import sqlite_only
from tests.factories import make_entity

WRITERS, EACH = 4, 15


def _writer(url: str, worker: int) -> int:
    """Add entities one transaction at a time; return how many failed."""
    db = Database(url)
    failures = 0
    for i in range(EACH):
        try:
            with db.writing() as session:
                make_entity(session, name=f"Writer {worker} Entity {i} Ltd")
        except Exception:
            failures += 1
    db.dispose()
    return failures


def test_concurrent_writers_all_succeed_with_one_valid_chain(db, app):
    with db.writing() as session:
        make_entity(session, name="First Ltd")  # creates the jurisdiction once
    url = app.config["DATABASE_URL"]
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        failures = pool.starmap(_writer, [(url, w) for w in range(WRITERS)])
    assert failures == [0] * WRITERS
    with db.session() as session:
        report = verify_chain(session)
        count = session.connection().execute(text("SELECT count(*) FROM entity")).scalar()
    assert count == 1 + WRITERS * EACH
    assert (
        report.ok and report.events == 1 + 1 + WRITERS * EACH
    )  # jurisdiction, First Ltd, the rest


@sqlite_only
def test_sqlite_runs_in_wal_with_foreign_keys(db):
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_enums_and_checks_are_enforced_by_the_database(db):
    with db.writing() as session:
        make_entity(session)
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text("UPDATE entity SET kind = 'alien'"))
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text("UPDATE entity SET term_start = '2020-01-02', term_end = '2020-01-01'"))
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text("UPDATE entity SET jurisdiction_code = 'ZZ'"))


def test_slugs_are_unique(db):
    with db.writing() as session:
        first = make_entity(session, name="Acme Ltd")
        second = make_entity(session, name="ACME Ltd.")
    assert (first.slug, second.slug) == ("acme-ltd", "acme-ltd-2")
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text("UPDATE entity SET slug = 'acme-ltd'"))
    assert Entity.__tablename__ == "entity"
