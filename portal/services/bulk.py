"""Bulk writes of rows prepared elsewhere: the demo loader's batches, one INSERT a table.

The rows (their change-log events included) are made and checked by the caller;
this only writes them, for an operator, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session, SQLModel

from portal.models import Counter
from portal.services.access import Actor, require


def insert_rows(
    session: Session, actor: Actor, rows_by_table: Mapping[str, list[dict[str, Any]]]
) -> None:
    """One executemany INSERT per table, in the mapping's order; empty tables are skipped."""
    require(actor.system, "write rows in bulk")
    conn = session.connection()
    for name, rows in rows_by_table.items():
        if rows:
            conn.execute(insert(SQLModel.metadata.tables[name]), rows)


def start_counter(session: Session, actor: Actor, name: str, value: int) -> None:
    """Create a named counter at a value (the last number already used)."""
    require(actor.system, "set counters")
    session.add(Counter(name=name, value=value))


def sync_id_sequences(session: Session, actor: Actor, tables: Iterable[str]) -> None:
    """On PostgreSQL, move each table's id sequence past the ids inserted explicitly."""
    require(actor.system, "move id sequences")
    for table in tables:
        session.connection().execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )
