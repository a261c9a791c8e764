"""The public pages read their rows through an index (SQLite's plans; docs/postgres-plans.md).

The register keeps no planner statistics, so SQLite plans a small test register as
it plans one of 100,000 entities: what these tests see is what a large one gets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session

from portal.db import Database
from portal.services.directory import agency_page, jurisdiction_page
from portal.services.history import record_events
from portal.services.public import entity_page, public_records
from portal.services.record_page import record_page
from tests.conftest import sqlite_only
from tests.factories import make_agency, make_entity, make_record

pytestmark = sqlite_only

# A plan line that reads a whole large table, in no index's order.
TABLE_SCAN = re.compile(r"^SCAN (entity|record|auditevent|recordrevision|response|appeal)$")


@contextmanager
def statements_of(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT the engine runs inside the block, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def plan_of(db: Database, read: Callable[[Session], object]) -> dict[str, list[str]]:
    """Each statement `read` runs, with the lines of SQLite's plan for it."""
    with statements_of(db.engine) as seen, db.session() as session:
        read(session)
    with db.engine.connect() as conn:
        return {
            statement: [
                row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            ]
            for statement, params in seen
        }


@pytest.fixture
def register(db: Database) -> dict[str, Any]:
    """Two agencies, entities in a country and in one of its parts, published records."""
    with db.writing() as session:
        ico = make_agency(session)
        make_agency(session, "fca", name="Financial Conduct Authority", categories=["conduct"])
        acme = make_entity(session)
        welsh = make_entity(session, "Cymru Widgets Cyf", jurisdiction="GB-WLS")
        first = make_record(session, ico, acme)
        make_record(session, ico, welsh, category="transparency", title="Late answers")
        return {"slug": acme.slug, "entity_id": acme.id, "ref": first.ref}


def test_agency_page_counts_categories_from_the_index_alone(db, register):
    plans = plan_of(db, lambda session: agency_page(session, "ico"))
    [plan] = [lines for sql, lines in plans.items() if "GROUP BY record.category" in sql]
    assert any("COVERING INDEX ix_record_agency_status_category" in line for line in plan), plan


def test_jurisdiction_page_counts_bands_from_the_index_alone(db, register):
    plans = plan_of(db, lambda session: jurisdiction_page(session, "GB"))
    [plan] = [lines for sql, lines in plans.items() if "GROUP BY entity.band" in sql]
    assert any("COVERING INDEX ix_entity_jurisdiction_kind_band" in line for line in plan), plan


@pytest.mark.parametrize(
    "read",
    [
        lambda session, r: entity_page(session, r["slug"]),
        lambda session, r: record_page(session, r["ref"]),
        lambda session, r: agency_page(session, "ico"),
        lambda session, r: jurisdiction_page(session, "GB"),
        lambda session, r: public_records(
            session, entity_page(session, r["slug"]).view.entity, 1, 20
        ),
        lambda session, r: record_events(session, r["entity_id"]),
    ],
    ids=["entity", "record", "agency", "jurisdiction", "entity-records", "score-history"],
)
def test_page_reads_no_large_table_whole(db, register, read):
    plans = plan_of(db, lambda session: read(session, register))
    scans = {sql: lines for sql, lines in plans.items() if any(map(TABLE_SCAN.match, lines))}
    assert plans and not scans, scans
