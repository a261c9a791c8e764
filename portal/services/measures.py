"""Lifting a measure in force before its end: a regulator action with a public reason.

Where the agency requires a second approval, one regulator proposes the lift and a
colleague confirms it; until then the measure stays in force and nothing is public
but the request on the change log. Every step is an event on the record's history.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

import scoring
from portal.errors import Conflict, PermissionDenied, ValidationFailed
from portal.models import Agency, Record, RecordStatus, utcnow
from portal.services.access import Actor, may_act_for_agency, require
from portal.services.records import log_record_event, public_reason
from portal.services.scores import refresh_score

LIFTABLE = (RecordStatus.PUBLISHED, RecordStatus.UNDER_APPEAL)


def measure_in_force(record: Any, day: date) -> bool | None:
    """Whether a record's measure is in force on a day, None when it has no period.

    As the engine reads it (scoring.measures.period_of): a sanction is in force from
    in_force_from (else its decision) until lifted or past in_force_until; another
    measure has a period only when it gives one of those dates.
    """
    measure = getattr(record, "measure", None)
    if not measure:
        return None
    start, until = record.in_force_from, record.in_force_until
    rule = scoring.default_rulebooks().select("default", day).measure(str(measure))
    if not (start or until or (rule is not None and rule.sanction)):
        return None
    lifted = record.lifted_on
    return (
        (start or record.decided_on) <= day
        and (until is None or day <= until)
        and (lifted is None or day < lifted)
    )


def _check_liftable(record: Record, on: date) -> None:
    """Only a public record's measure, once it started and before it ended, is lifted."""
    if not record.measure or record.status not in LIFTABLE:
        raise Conflict(f"Record {record.ref} carries no public measure to lift.")
    if record.lifted_on is not None:
        raise Conflict(f"The measure of {record.ref} was lifted on {record.lifted_on}.")
    start = record.in_force_from or record.decided_on
    if on < start or on > utcnow().date():
        raise ValidationFailed(
            "The lifting date must fall between the start of the measure and today.",
            {"lifted_on": "is out of range"},
        )
    if record.in_force_until is not None and on > record.in_force_until:
        raise ValidationFailed(
            f"The measure already ended on {record.in_force_until}.",
            {"lifted_on": "is after the measure ended"},
        )


def _needs_second(session: Session, actor: Actor, record: Record) -> bool:
    """Four eyes where the agency requires them; operators' imports act directly."""
    agency = session.get(Agency, record.agency_id)
    return agency is not None and agency.requires_second_approval and not actor.system


def lift_measure(session: Session, actor: Actor, record: Record, on: date, reason: str) -> Record:
    """Lift a record's measure from a date, or propose it where a colleague must confirm."""
    require(may_act_for_agency(actor, record.agency_id), "lift this measure")
    _check_liftable(record, on)
    reason = public_reason(reason)
    if record.pending_lift_on is not None:
        raise Conflict(f"A lift of {record.ref} is already waiting for a second approval.")
    if _needs_second(session, actor, record):
        record.pending_lift_on, record.pending_lift_reason = on, reason
        record.pending_lift_by_id = actor.user_id
        record.updated_at = utcnow()
        session.add(record)
        log_record_event(
            session, actor, "record.lift_proposed", record, {"on": on, "reason": reason}
        )
        return record
    return _lift(session, actor, record, on, reason)


def confirm_lift(session: Session, actor: Actor, record: Record) -> Record:
    """Confirm a proposed lift: a second regulator of the agency, never its proposer."""
    require(may_act_for_agency(actor, record.agency_id), "confirm this lift")
    if record.pending_lift_on is None or record.pending_lift_reason is None:
        raise Conflict(f"No lift of {record.ref} is waiting for approval.")
    if record.pending_lift_by_id is not None and record.pending_lift_by_id == actor.user_id:
        raise PermissionDenied("Whoever proposed a lift cannot confirm it; a colleague must.")
    on, reason = record.pending_lift_on, record.pending_lift_reason
    _check_liftable(record, on)
    return _lift(session, actor, record, on, reason)


def _lift(session: Session, actor: Actor, record: Record, on: date, reason: str) -> Record:
    """Record the lift, clear any proposal, log it and rescore the entity."""
    record.lifted_on, record.lifted_reason = on, reason
    record.pending_lift_on = record.pending_lift_reason = record.pending_lift_by_id = None
    record.updated_at = utcnow()
    session.add(record)
    log_record_event(session, actor, "record.lifted", record, {"on": on, "reason": reason})
    refresh_score(session, record.entity_id)
    return record
