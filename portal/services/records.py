"""The life of a finding: created, published, corrected, remediated, withdrawn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

import scoring
from portal.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.models import (
    PUBLIC_STATUSES,
    Agency,
    Entity,
    Measure,
    Nature,
    Record,
    RecordRevision,
    RecordStatus,
    Severity,
    utcnow,
)
from portal.services import fields
from portal.services.access import Actor, may_act_for_agency, require
from portal.services.audit import append_event
from portal.services.cases import case_key_of, case_origin, check_measure_rules
from portal.services.counters import next_value
from portal.services.notifications import notify, representatives
from portal.services.scores import refresh_score

# The fields a correction may change; each change is kept as a new revision.
CORRECTABLE = (
    "category",
    "severity",
    "title",
    "summary",
    "statute",
    "occurred_on",
    "decided_on",
    "penalty_amount",
    "penalty_currency",
    "source_url",
    "measure",
    "in_force_from",
    "in_force_until",
)


REVISION_FIELDS = ("nature", *CORRECTABLE, "remediated_on", "lifted_on")


@dataclass
class RecordInput:
    """A validated finding, ready to be created as a draft."""

    category: str
    severity: Severity
    title: str
    decided_on: date
    nature: Nature = Nature.VIOLATION
    summary: str | None = None
    statute: str | None = None
    occurred_on: date | None = None
    penalty_amount: Decimal | None = None
    penalty_currency: str | None = None
    source_url: str | None = None
    source_id: str | None = None
    measure: Measure | None = None
    in_force_from: date | None = None
    in_force_until: date | None = None
    case_agency: str | None = None
    case_id: str | None = None
    # The ref of the originating record, when the case is in the register.
    case_record: str | None = None


def parse_record(row: Mapping[str, str | None], agency: Agency, today: date) -> RecordInput:
    """Validate one record row against the agency's categories; raise with every problem."""
    errors: dict[str, str] = {}

    def take(name: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return parse(row.get(name), *args, **kwargs)
        except fields.FieldError as exc:
            errors[name] = str(exc)
            return None

    data = {
        "category": take("category", fields.text, required=True, max_length=60),
        "severity": take("severity", fields.choice, Severity),
        "title": take("title", fields.text, required=True),
        "decided_on": take("decided_on", fields.iso_date, required=True, today=today),
        "nature": take("nature", fields.choice, Nature, default=Nature.VIOLATION),
        "summary": take("summary", fields.text, max_length=20000),
        "statute": take("statute", fields.text),
        "occurred_on": take("occurred_on", fields.iso_date, today=today),
        "penalty_amount": take("penalty_amount", fields.money),
        "penalty_currency": take("penalty_currency", fields.currency),
        "source_url": take("source_url", fields.url),
        "source_id": take("source_id", fields.text, max_length=200),
        "measure": take("measure", fields.optional_choice, Measure),
        "in_force_from": take("in_force_from", fields.iso_date),
        "in_force_until": take("in_force_until", fields.iso_date),
        "case_agency": take("case_agency", fields.text, max_length=200),
        "case_id": take("case_id", fields.text, max_length=200),
        "case_record": take("case_record", fields.text, max_length=20),
    }
    check_record_rules(data, agency, errors)
    if errors:
        raise ValidationFailed("The record is not valid.", errors)
    return RecordInput(**data)


def check_record_rules(data: Mapping[str, Any], agency: Agency, errors: dict[str, str]) -> None:
    """Rules across fields: the agency's categories, date order, money with a currency."""
    category = data.get("category")
    if category and category not in agency.categories:
        allowed = ", ".join(agency.categories)
        errors.setdefault("category", f"{category!r} is not one of {agency.slug}'s: {allowed}")
    occurred, decided = data.get("occurred_on"), data.get("decided_on")
    if occurred and decided and decided < occurred:
        errors.setdefault("decided_on", "is before occurred_on")
    if data.get("penalty_amount") is not None and not data.get("penalty_currency"):
        errors.setdefault("penalty_currency", "is required with a penalty amount")
    if data.get("penalty_currency") and data.get("penalty_amount") is None:
        errors.setdefault("penalty_amount", "is required with a currency")
    check_measure_rules(data, errors)


def record_by_ref(session: Session, ref: str) -> Record:
    """The record with this public ref, or NotFound."""
    record = session.exec(select(Record).where(Record.ref == ref)).first()
    if record is None:
        raise NotFound(f"No record has the ref {ref!r}.")
    return record


def snapshot(record: Record) -> dict[str, Any]:
    """What each record event carries: its state for scores, history and search.

    Corrections also carry every changed field from and to, so nothing is lost.
    """
    return {
        "ref": record.ref,
        "entity_id": record.entity_id,
        "agency_id": record.agency_id,
        "nature": record.nature,
        "category": record.category,
        "severity": record.severity,
        "title": record.title,
        "decided_on": record.decided_on,
        "published_at": record.published_at,
        "remediated_on": record.remediated_on,
        "status": record.status,
        "revision": record.revision,
        "measure": record.measure,
        "in_force_from": record.in_force_from,
        "in_force_until": record.in_force_until,
        "lifted_on": record.lifted_on,
        "case_key": record.case_key,
    }


def log_record_event(
    session: Session, actor: Actor, action: str, record: Record, extra: Mapping[str, Any] = {}
) -> None:
    """Append a record event carrying the record's state after the change."""
    payload = {"record": snapshot(record), **extra}
    append_event(session, actor, action, ("record", record.ref), payload, record.entity_id)


def create_record(
    session: Session, actor: Actor, agency: Agency, entity: Entity, data: RecordInput
) -> Record:
    """Create a draft finding of an agency about an entity."""
    require(may_act_for_agency(actor, agency.id or 0), f"write findings for {agency.name}")
    now = utcnow()
    values = vars(data).copy()
    origin = case_origin(session, values.pop("case_record"), agency)
    record = Record(
        ref=f"R-{now.year}-{next_value(session, 'record'):06d}",
        entity_id=entity.id,
        agency_id=agency.id,
        created_by_id=actor.user_id,
        status=RecordStatus.DRAFT,
        case_record_id=origin,
        **values,
    )
    record.case_key = case_key_of(session, record)
    session.add(record)
    session.flush()
    log_record_event(session, actor, "record.created", record)
    return record


def public_reason(value: str | None, name: str = "reason") -> str:
    """A published reason: required text, with the same rules as every other field."""
    try:
        text = fields.text(value, required=True, max_length=2000)
    except fields.FieldError as exc:
        raise ValidationFailed(f"The {name} is not valid.", {name: str(exc)}) from None
    assert text is not None
    return text


def _agency_check(actor: Actor, record: Record, what: str) -> None:
    """Only the publishing agency's regulators act on its records."""
    require(may_act_for_agency(actor, record.agency_id), what)


def _keep_revision(session: Session, actor: Actor, record: Record, reason: str | None) -> None:
    """Store the record's current published fields as its numbered revision."""
    fields_now = {key: getattr(record, key) for key in REVISION_FIELDS}
    session.add(
        RecordRevision(
            record_id=record.id or 0,
            revision=record.revision,
            fields=_jsonable(fields_now),
            reason=reason,
            actor=actor.label,
        )
    )


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Dates and amounts as strings, so the revision fits a JSON column."""
    return {
        k: v.isoformat()
        if isinstance(v, date | datetime)
        else str(v)
        if isinstance(v, Decimal)
        else v
        for k, v in values.items()
    }


def submit_record(session: Session, actor: Actor, record: Record) -> Record:
    """Put a draft forward for a second person's approval."""
    _agency_check(actor, record, "submit this record")
    if record.status != RecordStatus.DRAFT:
        raise Conflict(f"Record {record.ref} is {record.status}; only a draft can be submitted.")
    record.status = RecordStatus.SUBMITTED
    record.updated_at = utcnow()
    session.add(record)
    log_record_event(session, actor, "record.submitted", record)
    return record


def approve_record(session: Session, actor: Actor, record: Record) -> Record:
    """Approve a submitted draft: a second user of the agency, never its author."""
    _agency_check(actor, record, "approve this record")
    if record.status != RecordStatus.SUBMITTED:
        raise Conflict(f"Record {record.ref} is {record.status}; only a submitted one is approved.")
    if record.created_by_id is not None and record.created_by_id == actor.user_id:
        raise PermissionDenied("The author of a finding cannot approve it; a colleague must.")
    record.status = RecordStatus.APPROVED
    record.updated_at = utcnow()
    session.add(record)
    log_record_event(session, actor, "record.approved", record)
    return record


def _publishable(session: Session, actor: Actor, record: Record) -> None:
    """Four eyes where the agency requires them; operators' imports publish directly."""
    agency = session.get(Agency, record.agency_id)
    needs_approval = agency is not None and agency.requires_second_approval and not actor.system
    allowed = (
        (RecordStatus.APPROVED,)
        if needs_approval
        else (RecordStatus.DRAFT, RecordStatus.SUBMITTED, RecordStatus.APPROVED)
    )
    if record.status not in allowed:
        if needs_approval and record.status in (RecordStatus.DRAFT, RecordStatus.SUBMITTED):
            raise Conflict(f"{agency.name} requires a second approval before publication.")
        raise Conflict(f"Record {record.ref} is {record.status}; it cannot be published.")


def publish_record(session: Session, actor: Actor, record: Record, rescore: bool = True) -> Record:
    """Publish a finding: it becomes public and counts.

    Bulk imports pass rescore=False and rescore each touched entity once at the end.
    """
    _agency_check(actor, record, "publish this record")
    _publishable(session, actor, record)
    record.status = RecordStatus.PUBLISHED
    record.published_at = record.updated_at = utcnow()
    record.published_by_id = actor.user_id
    session.add(record)
    session.flush()
    _keep_revision(session, actor, record, None)
    log_record_event(session, actor, "record.published", record)
    if rescore:
        refresh_score(session, record.entity_id)
    _tell_the_entity(session, record, "published")
    return record


def _tell_the_entity(session: Session, record: Record, what: str) -> None:
    """Tell the entity's representatives, with the appeal deadline (the window runs from
    publication): in their inbox, and by e-mail where the register sends mail."""
    entity = session.get(Entity, record.entity_id)
    if entity is None or record.published_at is None:
        return
    rulebook = scoring.default_rulebooks().select(entity.jurisdiction_code, utcnow().date())
    until = record.published_at.date() + timedelta(days=rulebook.appeal_file_within_days)
    message = (
        f"A finding about {entity.name} was {what}: {record.title} ({record.ref}). "
        f"You may reply to it, and appeal it until {until.day} {until.strftime('%B %Y')}."
    )
    notify(session, representatives(session, record.entity_id), message, f"/records/{record.ref}")


def correct_record(
    session: Session, actor: Actor, record: Record, changes: Mapping[str, Any], reason: str
) -> Record:
    """Correct a published finding as a new revision with a public reason."""
    _agency_check(actor, record, "correct this record")
    if record.status not in PUBLIC_STATUSES:
        raise Conflict(f"Record {record.ref} is {record.status}; only a public one is corrected.")
    reason = public_reason(reason)
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise ValidationFailed("Unknown fields.", {k: "cannot be corrected" for k in unknown})
    diff = {
        k: {"from": getattr(record, k), "to": v}
        for k, v in changes.items()
        if getattr(record, k) != v
    }
    if not diff:
        raise ValidationFailed("The correction changes nothing.", {"changes": "are empty"})
    for key, change in diff.items():
        setattr(record, key, change["to"])
    record.revision += 1
    record.updated_at = utcnow()
    session.add(record)
    session.flush()
    _keep_revision(session, actor, record, reason.strip())
    log_record_event(
        session, actor, "record.corrected", record, {"changes": diff, "reason": reason.strip()}
    )
    refresh_score(session, record.entity_id)
    _tell_the_entity(session, record, "corrected")
    return record


def withdraw_record(session: Session, actor: Actor, record: Record, reason: str) -> Record:
    """Withdraw a published finding: it stops counting and leaves public view."""
    _agency_check(actor, record, "withdraw this record")
    if record.status not in PUBLIC_STATUSES:
        raise Conflict(f"Record {record.ref} is {record.status}; it cannot be withdrawn.")
    reason = public_reason(reason)
    record.status = RecordStatus.WITHDRAWN
    record.status_reason = reason.strip()
    record.updated_at = utcnow()
    session.add(record)
    log_record_event(session, actor, "record.withdrawn", record, {"reason": reason.strip()})
    refresh_score(session, record.entity_id)
    return record


def remediate_record(session: Session, actor: Actor, record: Record, on: date) -> Record:
    """Mark a violation's remediation as verified by its agency from a date."""
    _agency_check(actor, record, "mark this record remediated")
    if record.status != RecordStatus.PUBLISHED or record.nature != Nature.VIOLATION:
        raise Conflict(f"Record {record.ref} is not a published violation.")
    if on < record.decided_on or on > utcnow().date():
        raise ValidationFailed(
            "The remediation date must fall between the decision and today.",
            {"remediated_on": "is out of range"},
        )
    record.remediated_on = on
    record.updated_at = utcnow()
    session.add(record)
    log_record_event(session, actor, "record.remediated", record)
    refresh_score(session, record.entity_id)
    return record
