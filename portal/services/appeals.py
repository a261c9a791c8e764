"""Appeals: filed by a representative within the window, decided by another agency user."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

import scoring
from portal.errors import Conflict, PermissionDenied, ValidationFailed
from portal.models import (
    Agency,
    Appeal,
    AppealStatus,
    AuditEvent,
    Entity,
    Record,
    RecordStatus,
    Role,
    utcnow,
)
from portal.services.access import Actor, may_act_for_agency, require
from portal.services.notifications import agency_users, notify, representatives
from portal.services.records import (
    CORRECTABLE,
    _keep_revision,
    log_record_event,
    public_reason,
)
from portal.services.scores import refresh_score

OUTCOMES = tuple(status for status in AppealStatus if status is not AppealStatus.OPEN)


def _rulebook(session: Session, record: Record) -> scoring.Rulebook:
    """The rulebook of the record's entity today (it sets the appeal deadlines)."""
    entity = session.get(Entity, record.entity_id)
    code = entity.jurisdiction_code if entity else "default"
    return scoring.default_rulebooks().select(code, utcnow().date())


def file_appeal(session: Session, actor: Actor, record: Record, grounds: str) -> Appeal:
    """Appeal a published record; it stops counting until decided."""
    require(
        actor.role == Role.REPRESENTATIVE and actor.entity_id == record.entity_id,
        "appeal findings about another organisation",
    )
    if record.status == RecordStatus.UNDER_APPEAL:
        raise Conflict("This finding is already under appeal.")
    if record.status != RecordStatus.PUBLISHED or record.published_at is None:
        raise Conflict("Only a published finding can be appealed.")
    window = _rulebook(session, record).appeal_file_within_days
    if utcnow() > record.published_at + timedelta(days=window):
        raise Conflict(f"The appeal window closed {window} days after publication.")
    grounds = public_reason(grounds, "grounds")
    appeal = Appeal(
        record_id=record.id or 0,
        entity_id=record.entity_id,
        filed_by_id=actor.user_id,
        grounds=grounds.strip(),
    )
    session.add(appeal)
    record.status = RecordStatus.UNDER_APPEAL
    record.updated_at = utcnow()
    session.add(record)
    session.flush()
    log_record_event(session, actor, "appeal.filed", record, {"grounds": appeal.grounds})
    refresh_score(session, record.entity_id)
    notify(
        session,
        agency_users(session, record.agency_id),
        f"Appeal filed against {record.ref}.",
        f"/workspace/records/{record.ref}",
    )
    return appeal


# The steps of a finding whose authors may not judge an appeal against it.
INVOLVED_ACTIONS = ("record.created", "record.submitted", "record.approved", "record.published",
                    "record.corrected", "record.correction_proposed")  # fmt: skip


def involved_users(session: Session, record: Record) -> set[int]:
    """The users who wrote, approved, published or corrected a finding (from its history)."""
    labels = session.exec(
        select(AuditEvent.actor).where(
            AuditEvent.object_type == "record",
            AuditEvent.object_id == record.ref,
            col(AuditEvent.action).in_(INVOLVED_ACTIONS),
        )
    ).all()
    ids = {int(label[5:]) for label in labels if label.startswith("user:") and label[5:].isdigit()}
    return ids | {i for i in (record.created_by_id, record.published_by_id) if i is not None}


def decide_appeal(
    session: Session,
    actor: Actor,
    appeal: Appeal,
    outcome: str,
    reason: str,
    changes: Mapping[str, Any] | None = None,
) -> Appeal:
    """Dismiss, grant (overturn) or amend: a user of the agency who had no hand in the finding."""
    record = session.get(Record, appeal.record_id)
    assert record is not None
    require(
        may_act_for_agency(actor, record.agency_id) and not actor.system,
        "decide appeals against another agency's findings",
    )
    if actor.user_id is not None and actor.user_id in involved_users(session, record):
        raise PermissionDenied(
            "Whoever wrote, approved, published or corrected a finding cannot decide its "
            "appeal; a colleague must."
        )
    if appeal.status != AppealStatus.OPEN:
        raise Conflict("This appeal has been decided.")
    if outcome not in OUTCOMES or not (reason or "").strip():
        raise ValidationFailed(
            "Choose an outcome and give a reason.",
            {"outcome": f"one of {', '.join(OUTCOMES)}", "reason": "required"},
        )
    reason = public_reason(reason)
    extra: dict[str, Any] = {"outcome": outcome, "reason": reason}
    if outcome == "amended":
        extra["changes"] = _amend(session, actor, record, changes or {}, reason.strip())
    record.status = RecordStatus.OVERTURNED if outcome == "granted" else RecordStatus.PUBLISHED
    record.updated_at = appeal.decided_at = utcnow()
    appeal.status, appeal.decided_by_id = AppealStatus(outcome), actor.user_id
    appeal.decision_reason = reason.strip()
    session.add_all([record, appeal])
    session.flush()
    log_record_event(session, actor, "appeal.decided", record, extra)
    refresh_score(session, record.entity_id)
    notify(
        session,
        representatives(session, record.entity_id),
        f"The appeal against {record.ref} was {outcome}.",
        f"/records/{record.ref}",
    )
    return appeal


def _amend(
    session: Session, actor: Actor, record: Record, changes: Mapping[str, Any], reason: str
) -> dict[str, dict[str, Any]]:
    """An amended finding is a new revision, e.g. at a lower severity."""
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise ValidationFailed("Unknown fields.", {k: "cannot be amended" for k in unknown})
    diff = {
        k: {"from": getattr(record, k), "to": v}
        for k, v in changes.items()
        if getattr(record, k) != v
    }
    if not diff:
        raise ValidationFailed("An amendment changes something.", {"changes": "are empty"})
    for key, change in diff.items():
        setattr(record, key, change["to"])
    record.revision += 1
    session.flush()
    _keep_revision(session, actor, record, reason)
    return diff


def overdue_appeals(session: Session, agency: Agency) -> list[tuple[Appeal, Record]]:
    """Open appeals past the rulebook's decision deadline, oldest first."""
    rows = session.exec(
        select(Appeal, Record, Entity.jurisdiction_code)
        .join(Record, col(Record.id) == Appeal.record_id)
        .join(Entity, col(Entity.id) == Record.entity_id)
        .where(Record.agency_id == agency.id, Appeal.status == AppealStatus.OPEN)
        .order_by(col(Appeal.filed_at))
    ).all()
    now = utcnow()
    rulebooks = scoring.default_rulebooks()
    late = []
    for appeal, record, code in rows:  # one query, however many appeals are open
        limit = rulebooks.select(code, now.date()).appeal_decide_within_days
        if appeal.filed_at + timedelta(days=limit) < now:
            late.append((appeal, record))
    return late


def open_appeals(session: Session, agency_id: int) -> list[tuple[Appeal, Record]]:
    """Every open appeal against an agency's findings."""
    return list(
        session.exec(
            select(Appeal, Record)
            .join(Record, col(Record.id) == Appeal.record_id)
            .where(Record.agency_id == agency_id, Appeal.status == AppealStatus.OPEN)
            .order_by(col(Appeal.filed_at))
        ).all()
    )
