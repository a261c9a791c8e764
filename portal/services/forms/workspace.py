"""What a regulator's workspace shows, and the writes its forms make."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from portal.db import Database
from portal.errors import NotFound, PermissionDenied, ValidationFailed
from portal.models import Agency, Appeal, Entity, Record, RecordStatus, User, utcnow
from portal.services import fields
from portal.services.access import Actor, require
from portal.services.appeals import open_appeals, overdue_appeals
from portal.services.entities import create_entity, parse_entity
from portal.services.measures import confirm_lift, lift_measure
from portal.services.records import (
    CORRECTABLE,
    approve_record,
    correct_record,
    create_record,
    parse_record,
    publish_record,
    record_by_ref,
    remediate_record,
    submit_record,
    withdraw_record,
)


@dataclass
class AgencyDesk:
    """An agency's records by stage, for its regulators."""

    agency: Agency
    drafts: list[Record]
    submitted: list[Record]
    approved: list[Record]
    published: list[Record]
    appeals: list[tuple[Appeal, Record, bool]]


def agency_of(session: Session, actor: Actor) -> Agency:
    """The agency a regulator acts for."""
    require(actor.agency_id is not None, "use an agency's workspace")
    agency = session.get(Agency, actor.agency_id)
    if agency is None:
        raise NotFound("Your agency no longer exists.")
    return agency


def agency_desk(session: Session, actor: Actor) -> AgencyDesk:
    """The workspace home of a regulator."""
    agency = agency_of(session, actor)
    rows = session.exec(
        select(Record)
        .where(
            Record.agency_id == agency.id,
            col(Record.status).in_(
                (RecordStatus.DRAFT, RecordStatus.SUBMITTED, RecordStatus.APPROVED)
            ),
        )
        .order_by(col(Record.updated_at).desc())
        .limit(200)
    ).all()
    published = session.exec(
        select(Record)
        .where(Record.agency_id == agency.id, Record.status == RecordStatus.PUBLISHED)
        .order_by(col(Record.published_at).desc())
        .limit(20)
    ).all()
    by = {s: [r for r in rows if r.status == s] for s in RecordStatus}
    late = {appeal.id for appeal, _record in overdue_appeals(session, agency)}
    appeals = [(a, r, a.id in late) for a, r in open_appeals(session, agency.id or 0)]
    return AgencyDesk(
        agency,
        by[RecordStatus.DRAFT],
        by[RecordStatus.SUBMITTED],
        by[RecordStatus.APPROVED],
        list(published),
        appeals,
    )


def draft_from_form(session: Session, actor: Actor, form: Mapping[str, str]) -> Record:
    """Create a draft from the workspace form, adding the entity first if it is new."""
    agency = agency_of(session, actor)
    data = parse_record(form, agency, utcnow().date())
    slug = (form.get("entity_slug") or "").strip()
    if slug:
        entity = session.exec(select(Entity).where(Entity.slug == slug)).first()
        if entity is None:
            raise ValidationFailed("Unknown entity.", {"entity_slug": f"no entity {slug!r}"})
    elif (form.get("new_entity_name") or "").strip():
        new = {
            "name": form.get("new_entity_name"),
            "kind": form.get("new_entity_kind"),
            "jurisdiction": form.get("new_entity_jurisdiction"),
        }
        try:
            entity = create_entity(session, actor, parse_entity(new))
        except ValidationFailed as exc:
            details = {f"new_entity_{k}": v for k, v in (exc.details or {}).items()}
            raise ValidationFailed("The new entity is not valid.", details) from None
    else:
        raise ValidationFailed("Which entity?", {"entity_slug": "or a new entity name is required"})
    return create_record(session, actor, agency, entity, data)


def own_record(session: Session, actor: Actor, ref: str) -> Record:
    """A record of the regulator's own agency (others' records are refused, not shown)."""
    record = record_by_ref(session, ref)
    if actor.agency_id != record.agency_id:
        raise PermissionDenied("This record belongs to another agency.")
    return record


def _correction(record: Record, form: Mapping[str, str], agency: Agency) -> dict[str, Any]:
    """The changed fields of a correction form, validated like a new record."""
    merged = {key: form.get(key, "") for key in CORRECTABLE}
    merged["nature"] = str(record.nature)
    clean = vars(parse_record(merged, agency, utcnow().date()))
    return {key: clean[key] for key in CORRECTABLE if clean[key] != getattr(record, key)}


def act_on_record(
    session: Session, actor: Actor, ref: str, action: str, form: Mapping[str, str]
) -> Record:
    """Run one workflow step named by a form's action."""
    record = own_record(session, actor, ref)
    reason = (form.get("reason") or "").strip()
    if action == "submit":
        return submit_record(session, actor, record)
    if action == "approve":
        return approve_record(session, actor, record)
    if action == "publish":
        return publish_record(session, actor, record)
    if action == "withdraw":
        return withdraw_record(session, actor, record, reason)
    if action == "remediate":
        try:
            day = fields.iso_date(form.get("remediated_on"), required=True)
        except fields.FieldError as exc:
            raise ValidationFailed("The date is not valid.", {"remediated_on": str(exc)}) from None
        return remediate_record(session, actor, record, day or date.today())
    if action == "correct":
        agency = agency_of(session, actor)
        return correct_record(session, actor, record, _correction(record, form, agency), reason)
    if action == "lift":
        try:
            day = fields.iso_date(form.get("lifted_on"), required=True)
        except fields.FieldError as exc:
            raise ValidationFailed("The date is not valid.", {"lifted_on": str(exc)}) from None
        return lift_measure(session, actor, record, day or date.today(), reason)
    if action == "confirm_lift":
        return confirm_lift(session, actor, record)
    raise NotFound(f"Unknown action {action!r}.")


def regulator_colleagues(session: Session, agency_id: int) -> list[User]:
    """The regulators of an agency (to show who may approve)."""
    return list(session.exec(select(User).where(User.agency_id == agency_id)).all())


def save_draft(db: Database, actor: Actor, form: Mapping[str, str]) -> str:
    """Create a draft from the form in one transaction; return its ref."""
    with db.writing() as session:
        return draft_from_form(session, actor, form).ref


def take_step(db: Database, actor: Actor, ref: str, action: str, form: Mapping[str, str]) -> None:
    """Run one workflow step in one transaction."""
    with db.writing() as session:
        act_on_record(session, actor, ref, action, form)
