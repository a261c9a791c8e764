"""Stored scores: computed by the pure scoring engine from the database's facts."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, col, select

import scoring
from portal.db import Database
from portal.models import PUBLIC_STATUSES, Agency, Entity, Record, utcnow
from portal.services.sanction_notes import sanction_note


def entity_facts(entity: Entity) -> scoring.EntityFacts:
    """What the engine needs to know about an entity."""
    return scoring.EntityFacts(
        kind=str(entity.kind), jurisdiction=entity.jurisdiction_code, term_end=entity.term_end
    )


def record_facts(record: Record) -> scoring.RecordFacts:
    """What the engine needs to know about one record."""
    return scoring.RecordFacts(
        ref=record.ref,
        nature=str(record.nature),
        category=record.category,
        severity=str(record.severity),
        decided_on=record.decided_on,
        status=str(record.status),
        published_on=record.published_at.date() if record.published_at else None,
        remediated_on=record.remediated_on,
        measure=record.measure,
        in_force_from=record.in_force_from,
        in_force_until=record.in_force_until,
        lifted_on=record.lifted_on,
        case=record.case_key,
    )


def compute_score(
    facts: scoring.EntityFacts, records: Iterable[scoring.RecordFacts], as_of: date
) -> scoring.Score:
    """Score an entity with the rulebook in force for its jurisdiction on `as_of`."""
    rulebook = scoring.default_rulebooks().select(facts.jurisdiction, as_of)
    return scoring.score(facts, records, rulebook, as_of)


def apply_score(
    entity: Entity, result: scoring.Score, agencies: dict[str, str] | None = None
) -> None:
    """Copy a computed score onto the entity's stored columns."""
    for key, value in _score_columns(result, agencies).items():
        setattr(entity, key, value)


def refresh_score(session: Session, entity_id: int, as_of: date | None = None) -> scoring.Score:
    """Recompute and store one entity's score in the caller's transaction."""
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise LookupError(f"entity {entity_id} does not exist")
    # Only public records count; drafts, withdrawn and overturned ones never do.
    records = session.exec(
        select(Record).where(Record.entity_id == entity_id, col(Record.status).in_(PUBLIC_STATUSES))
    ).all()
    facts = [record_facts(r) for r in records]
    result = compute_score(entity_facts(entity), facts, as_of or utcnow().date())
    apply_score(
        entity, result, _agencies_of(session, result, {r.ref: r.agency_id for r in records})
    )
    session.add(entity)
    return result


def _agencies_of(
    session: Session, result: scoring.Score, agency_ids: dict[str, int]
) -> dict[str, str]:
    """The names of the agencies behind a score's sanctions, by record ref (no query without)."""
    if not result.sanctions:
        return {}
    names = agency_names(session)
    return {s.record: names.get(agency_ids.get(s.record, 0), "") for s in result.sanctions}


def agency_names(session: Session) -> dict[int, str]:
    """Every agency's name by id (agencies are few)."""
    return {int(i): n for i, n in session.exec(select(Agency.id, Agency.name)).all()}


def _score_columns(
    result: scoring.Score, agencies: dict[str, str] | None = None
) -> dict[str, object]:
    """The stored columns of a computed score (`agencies`: sanction record ref -> agency)."""
    # In the order of _ENTITY_COLUMNS: a batch compares stored and computed values as tuples.
    return {
        "score": result.value,
        "band": result.band,
        "trusted": result.trusted,
        "watchlist": result.watchlist,
        "under_sanction": result.under_sanction,
        "sanction_note": sanction_note(result.sanctions, agencies or {}),
        "score_rulebook": f"{result.rulebook_id} {result.rulebook_version}",
    }


_ENTITY_COLUMNS = (
    Entity.id,
    Entity.kind,
    Entity.jurisdiction_code,
    Entity.term_end,
    Entity.score,
    Entity.band,
    Entity.trusted,
    Entity.watchlist,
    Entity.under_sanction,
    Entity.sanction_note,
    Entity.score_rulebook,
)
_RECORD_COLUMNS = (
    Record.entity_id,
    Record.ref,
    Record.nature,
    Record.category,
    Record.severity,
    Record.decided_on,
    Record.status,
    Record.published_at,
    Record.remediated_on,
    Record.measure,
    Record.in_force_from,
    Record.in_force_until,
    Record.lifted_on,
    Record.case_key,
    Record.agency_id,
)


def score_changes(
    session: Session, low: int, high: int, as_of: date
) -> tuple[int, list[dict[str, object]]]:
    """Score entities with ids in [low, high); return how many, and the stored rows to change.

    Plain column tuples, not ORM objects: building objects was most of the time.
    """
    entities = session.exec(
        select(*_ENTITY_COLUMNS).where(Entity.id >= low, Entity.id < high)
    ).all()
    records = session.exec(
        select(*_RECORD_COLUMNS).where(
            Record.entity_id >= low,
            Record.entity_id < high,
            col(Record.status).in_(PUBLIC_STATUSES),
        )
    ).all()
    by_entity: dict[int, list[scoring.RecordFacts]] = {}
    agency_of: dict[str, int] = {}
    names: dict[int, str] | None = None
    for entity_id, ref, nature, category, severity, decided, status, published, *rest in records:
        remedied, measure, in_force_from, in_force_until, lifted, case, agency_id = rest
        agency_of[ref] = agency_id
        by_entity.setdefault(entity_id, []).append(
            scoring.RecordFacts(
                ref,
                str(nature),
                category,
                str(severity),
                decided,
                str(status),
                published.date() if published else None,
                remedied,
                str(measure) if measure else None,
                in_force_from,
                in_force_until,
                lifted,
                case,
            )
        )
    changes = []
    for entity_id, kind, jurisdiction, term_end, *stored in entities:
        facts = scoring.EntityFacts(str(kind), jurisdiction, term_end)
        result = compute_score(facts, by_entity.get(entity_id, []), as_of)
        agencies = {}
        if result.sanctions:
            names = names if names is not None else agency_names(session)
            agencies = {
                s.record: names.get(agency_of.get(s.record, 0), "") for s in result.sanctions
            }
        columns = _score_columns(result, agencies)
        if tuple(stored) != tuple(columns.values()):
            changes.append({"entity_id": entity_id, **columns})
    return len(entities), changes


def store_scores(session: Session, changes: list[dict[str, object]]) -> None:
    """Write computed score columns in one executemany UPDATE."""
    if changes:
        table = Entity.__table__  # type: ignore[attr-defined]
        statement = (
            update(table)
            .where(table.c.id == bindparam("entity_id"))
            .values({key: bindparam(key) for key in changes[0] if key != "entity_id"})
        )
        session.connection().execute(statement, changes)


def recompute_batch(session: Session, low: int, high: int, as_of: date) -> tuple[int, int]:
    """Rescore entities with ids in [low, high) in the caller's transaction."""
    count, changes = score_changes(session, low, high, as_of)
    store_scores(session, changes)
    return count, len(changes)


_WORKER_DB: dict[str, Database] = {}


def _recompute_range(url: str, low: int, high: int, day: date) -> tuple[int, int]:
    """One batch in a worker process, with that process's own connection pool."""
    db = _WORKER_DB.get(url) or _WORKER_DB.setdefault(url, Database(url))
    return _recompute_with(db, low, high, day)


def _recompute_with(db: Database, low: int, high: int, day: date) -> tuple[int, int]:
    """Score one batch, then store what changed."""
    with db.session() as session:
        count, changes = score_changes(session, low, high, day)
    # Read and score outside the write lock; hold it only for the short UPDATE.
    with db.writing() as session:
        store_scores(session, changes)
    return count, len(changes)


def recompute_all(
    db: Database,
    as_of: date | None = None,
    batch: int = 5000,
    progress: Callable[[int], None] = lambda n: None,
    workers: int = 1,
) -> tuple[int, int]:
    """Rescore every entity in streamed batches; return (entities, scores changed).

    With workers > 1 the batches are scored in that many processes; scoring is
    CPU-bound and each batch's short write waits its turn (BEGIN IMMEDIATE).
    """
    day = as_of or utcnow().date()
    with db.session() as session:
        low, high = session.exec(select(func.min(Entity.id), func.max(Entity.id))).one()
    if low is None:
        return 0, 0
    ranges = [(db.url, start, start + batch, day) for start in range(low, high + 1, batch)]
    seen = changed = 0
    if workers > 1 and len(ranges) > 1:
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers) as pool:
            for count, updated in pool.starmap(_recompute_range, ranges, chunksize=1):
                seen, changed = seen + count, changed + updated
                progress(count)
        return seen, changed
    for _url, start, end, _day in ranges:
        count, updated = _recompute_with(db, start, end, day)
        seen, changed = seen + count, changed + updated
        progress(count)
    return seen, changed
