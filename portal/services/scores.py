"""Stored scores: computed by the pure scoring engine from the database's facts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session, col, select

import scoring
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
    entity.score = result.value
    entity.band = result.band
    entity.trusted = result.trusted
    entity.watchlist = result.watchlist
    entity.score_rulebook = f"{result.rulebook_id} {result.rulebook_version}"


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
