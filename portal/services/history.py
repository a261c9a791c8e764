"""Scores as they stood on a date, rebuilt from the change log.

Every record event carries the record's state after the change, so replaying an
entity's events up to the end of a day gives each record's state on that day.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

import scoring
from portal.models import AuditEvent, Entity
from portal.services.scores import compute_score, entity_facts


def record_events(session: Session, entity_id: int) -> list[tuple[datetime, int, dict]]:
    """(time, seq, record state) for every record event of an entity, in time order."""
    rows = session.exec(
        select(AuditEvent.occurred_at, AuditEvent.seq, AuditEvent.payload)
        .where(AuditEvent.entity_id == entity_id, AuditEvent.object_type == "record")
        .order_by(col(AuditEvent.seq))
    ).all()
    states = [(at, seq, json.loads(payload)["record"]) for at, seq, payload in rows]
    return sorted(states, key=lambda item: (item[0], item[1]))


def _end_of(day: date) -> datetime:
    """The first instant after a day, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def facts_as_of(
    events: Sequence[tuple[datetime, int, dict]], day: date
) -> list[scoring.RecordFacts]:
    """Each record's state at the end of `day`, as the scoring engine reads it."""
    latest: dict[str, dict] = {}
    cutoff = _end_of(day)
    for at, _seq, state in events:
        if at >= cutoff:
            break
        latest[state["ref"]] = state
    return [_facts(state) for state in latest.values()]


def _facts(state: dict) -> scoring.RecordFacts:
    """A logged record state as engine facts."""
    published = state.get("published_at")
    remediated = state.get("remediated_on")
    return scoring.RecordFacts(
        ref=state["ref"],
        nature=state["nature"],
        category=state["category"],
        severity=state["severity"],
        decided_on=date.fromisoformat(state["decided_on"]),
        status=state["status"],
        published_on=datetime.fromisoformat(published).date() if published else None,
        remediated_on=date.fromisoformat(remediated) if remediated else None,
        measure=state.get("measure"),
        in_force_from=_day(state.get("in_force_from")),
        in_force_until=_day(state.get("in_force_until")),
        lifted_on=_day(state.get("lifted_on")),
        case=state.get("case_key"),
    )


def _day(value: str | None) -> date | None:
    """A logged ISO date, or None for a state logged before the field existed."""
    return date.fromisoformat(value) if value else None


def score_as_of(session: Session, entity: Entity, day: date) -> scoring.Score:
    """The entity's score as it stood on `day`, under the rulebook in force then."""
    events = record_events(session, entity.id or 0)
    return compute_score(entity_facts(entity), facts_as_of(events, day), day)


def score_series(session: Session, entity: Entity, days: Sequence[date]) -> list[scoring.Score]:
    """Scores on several days from one read of the log (for history charts)."""
    events = record_events(session, entity.id or 0)
    facts = entity_facts(entity)
    return [compute_score(facts, facts_as_of(events, day), day) for day in days]
