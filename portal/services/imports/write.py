"""Writing a planned import in bulk: rows by executemany INSERT, events through append_event.

create_entity, create_record and publish_record write and flush one row at a
time, and each flush makes the change log read its head again: about 4 ms a
record, a minute for a 10,000-row file. This writes the same rows and the same
change-log events (`entity.created`, `record.created`, `record.published`) in a
few statements per table, as the demo loader does;
tests/portal/test_real_imports.py checks both ways write alike. Each touched
entity is then rescored once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Table, insert, update
from sqlmodel import Session, SQLModel, col

from portal.models import Agency, Counter, Entity, Record, RecordRevision, RecordStatus, utcnow
from portal.services.access import Actor, may_act_for_agency, may_create_entity, require
from portal.services.audit import append_event
from portal.services.counters import next_value
from portal.services.entities import ensure_jurisdiction
from portal.services.imports.match import EntityRef, NewEntity
from portal.services.records import REVISION_FIELDS, RecordInput, snapshot
from portal.services.scores import recompute_batch
from search.names import name_key


def write_records(
    session: Session,
    actor: Actor,
    planned: Sequence[tuple[str, EntityRef, RecordInput]],
    agencies: dict[str, Agency],
) -> set[int]:
    """Create the new entities and the published records of a plan; return touched entity ids."""
    for slug in {agency for agency, _, _ in planned}:
        agency = agencies[slug]
        require(may_act_for_agency(actor, agency.id or 0), f"write findings for {agency.name}")
    new = list({id(ref): ref for _, ref, _ in planned if isinstance(ref, NewEntity)}.values())
    if new:
        require(may_create_entity(actor), "add entities to the register")
        for code in sorted({ref.data.jurisdiction for ref in new}):
            ensure_jurisdiction(session, actor, code)
        session.flush()
    now = utcnow()
    _insert_entities(session, new, now)
    records = _insert_records(session, actor, planned, agencies, now)
    _insert_revisions(session, actor, records, now)
    _log(session, actor, planned, records)
    session.flush()
    return {row["entity_id"] for row in records}


def rescore(session: Session, entity_ids: set[int]) -> None:
    """Rescore touched entities once, a run of consecutive ids (new entities) per batch."""
    today = utcnow().date()
    ids = sorted(entity_ids)
    start = 0
    for i, entity_id in enumerate(ids):
        if i + 1 == len(ids) or ids[i + 1] != entity_id + 1:
            recompute_batch(session, ids[start], entity_id + 1, today)
            start = i + 1


def _table(model: type[SQLModel]) -> Table:
    """The Core table of a model."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def _defaults(model: type[SQLModel]) -> dict[str, Any]:
    """Every column's default as the model would fill it (Core inserts fill none)."""
    out = {}
    for name, info in model.model_fields.items():
        if name in _table(model).c and name != "id":
            out[name] = info.get_default(call_default_factory=True)
    return out


def _insert_returning_ids(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]]
) -> None:
    """One executemany INSERT; each row dict gets its new `id`."""
    if not rows:
        return
    table = _table(model)
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = session.connection().execute(statement, rows).scalars().all()
    for row, new_id in zip(rows, ids, strict=True):
        row["id"] = new_id


def _insert_entities(session: Session, new: list[NewEntity], now: datetime) -> None:
    """The new entities' rows, as create_entity writes them (the import names no aliases)."""
    base = _defaults(Entity)
    rows = []
    for ref in new:
        data = ref.data
        rows.append(
            {
                **base,
                "slug": data.slug,
                "kind": data.kind,
                "name": data.name,
                "name_key": name_key(data.name),
                "registration_id": data.registration_id,
                "jurisdiction_code": data.jurisdiction,
                "sector": data.sector,
                "address": data.address,
                "website": data.website,
                "created_at": now,
                "updated_at": now,
            }
        )
    _insert_returning_ids(session, Entity, rows)
    for ref, row in zip(new, rows, strict=True):
        ref.id = row["id"]


def _insert_records(
    session: Session,
    actor: Actor,
    planned: Sequence[tuple[str, EntityRef, RecordInput]],
    agencies: dict[str, Agency],
    now: datetime,
) -> list[dict[str, Any]]:
    """The records' rows as create_record and then publish_record leave them."""
    base = _defaults(Record)
    rows = []
    for number, (agency_slug, ref, data) in zip(
        _numbers(session, len(planned)), planned, strict=True
    ):
        rows.append(
            {
                **base,
                **vars(data),
                "ref": f"R-{now.year}-{number:06d}",
                "entity_id": ref.id,
                "agency_id": agencies[agency_slug].id,
                "created_by_id": actor.user_id,
                "published_by_id": actor.user_id,
                "status": RecordStatus.PUBLISHED,
                "published_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    _insert_returning_ids(session, Record, rows)
    return rows


def _numbers(session: Session, count: int) -> range:
    """`count` consecutive record numbers: next_value once, then the counter moved on."""
    if count == 0:
        return range(0)
    first = next_value(session, "record")
    if count > 1:
        bump = update(Counter).where(col(Counter.name) == "record")
        session.connection().execute(bump.values(value=Counter.value + (count - 1)))
    return range(first, first + count)


def _insert_revisions(
    session: Session, actor: Actor, records: list[dict[str, Any]], now: datetime
) -> None:
    """Revision 1 of each published record, as publish_record keeps it."""
    rows = [
        {
            "record_id": row["id"],
            "revision": row["revision"],
            "fields": {k: _jsonable(row[k]) for k in REVISION_FIELDS},
            "reason": None,
            "created_at": now,
            "actor": actor.label,
        }
        for row in records
    ]
    if rows:
        session.connection().execute(insert(_table(RecordRevision)), rows)


def _jsonable(value: Any) -> Any:
    """A revision field as publish_record keeps it in the JSON column."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value


def _log(
    session: Session,
    actor: Actor,
    planned: Sequence[tuple[str, EntityRef, RecordInput]],
    records: list[dict[str, Any]],
) -> None:
    """The change-log events, row by row in file order, chained by append_event.

    No flush happens between them, so the chain head is read once.
    """
    logged: set[int] = set()
    for (_, ref, _), row in zip(planned, records, strict=True):
        if isinstance(ref, NewEntity) and id(ref) not in logged:
            logged.add(id(ref))
            payload = {**asdict(ref.data), "slug": ref.data.slug}
            obj = ("entity", ref.data.slug or "")
            append_event(session, actor, "entity.created", obj, payload, ref.id)
        draft = {**row, "status": RecordStatus.DRAFT, "published_at": None, "published_by_id": None}
        for action, state in (("record.created", draft), ("record.published", row)):
            payload = {"record": snapshot(SimpleNamespace(**state))}  # type: ignore[arg-type]
            append_event(session, actor, action, ("record", row["ref"]), payload, row["entity_id"])
