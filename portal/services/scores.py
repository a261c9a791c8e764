"""Stored scores: computed by the pure scoring engine from the database's facts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, col, select

import scoring
from portal.db import Database
from portal.models import Entity, Record, RecordStatus, utcnow

# Statuses the engine looks at; drafts and withdrawn records never count.
SCORED_STATUSES = (RecordStatus.PUBLISHED, RecordStatus.UNDER_APPEAL)


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
    )


def compute_score(
    facts: scoring.EntityFacts, records: Iterable[scoring.RecordFacts], as_of: date
) -> scoring.Score:
    """Score an entity with the rulebook in force for its jurisdiction on `as_of`."""
    rulebook = scoring.default_rulebooks().select(facts.jurisdiction, as_of)
    return scoring.score(facts, records, rulebook, as_of)


def apply_score(entity: Entity, result: scoring.Score) -> None:
    """Copy a computed score onto the entity's stored columns."""
    for key, value in _score_columns(result).items():
        setattr(entity, key, value)


def refresh_score(session: Session, entity_id: int, as_of: date | None = None) -> scoring.Score:
    """Recompute and store one entity's score in the caller's transaction."""
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise LookupError(f"entity {entity_id} does not exist")
    records = session.exec(
        select(Record).where(Record.entity_id == entity_id, col(Record.status).in_(SCORED_STATUSES))
    ).all()
    facts = [record_facts(r) for r in records]
    result = compute_score(entity_facts(entity), facts, as_of or utcnow().date())
    apply_score(entity, result)
    session.add(entity)
    return result


def _score_columns(result: scoring.Score) -> dict[str, object]:
    """The stored columns of a computed score."""
    return {
        "score": result.value,
        "band": result.band,
        "trusted": result.trusted,
        "watchlist": result.watchlist,
        "score_rulebook": f"{result.rulebook_id} {result.rulebook_version}",
    }


def recompute_batch(session: Session, low: int, high: int, as_of: date) -> tuple[int, int]:
    """Rescore entities with ids in [low, high); return (entities seen, rows changed)."""
    entities = session.exec(
        select(Entity).where(Entity.id >= low, Entity.id < high).order_by(col(Entity.id))
    ).all()
    records = session.exec(
        select(Record).where(
            Record.entity_id >= low,
            Record.entity_id < high,
            col(Record.status).in_(SCORED_STATUSES),
        )
    ).all()
    by_entity: dict[int, list[scoring.RecordFacts]] = {}
    for record in records:
        by_entity.setdefault(record.entity_id, []).append(record_facts(record))
    changes = []
    for entity in entities:
        columns = _score_columns(
            compute_score(entity_facts(entity), by_entity.get(entity.id or 0, []), as_of)
        )
        if any(getattr(entity, key) != value for key, value in columns.items()):
            changes.append({"entity_id": entity.id, **columns})
    if changes:
        table = Entity.__table__  # type: ignore[attr-defined]
        statement = (
            update(table)
            .where(table.c.id == bindparam("entity_id"))
            .values({key: bindparam(key) for key in changes[0] if key != "entity_id"})
        )
        session.connection().execute(statement, changes)
    return len(entities), len(changes)


def recompute_all(
    db: Database,
    as_of: date | None = None,
    batch: int = 5000,
    progress: Callable[[int], None] = lambda n: None,
) -> tuple[int, int]:
    """Rescore every entity in streamed batches; return (entities, scores changed)."""
    day = as_of or utcnow().date()
    with db.session() as session:
        low, high = session.exec(select(func.min(Entity.id), func.max(Entity.id))).one()
    seen = changed = 0
    if low is None:
        return 0, 0
    for start in range(low, high + 1, batch):
        with db.writing() as session:
            count, updated = recompute_batch(session, start, start + batch, day)
        seen, changed = seen + count, changed + updated
        progress(count)
    return seen, changed
