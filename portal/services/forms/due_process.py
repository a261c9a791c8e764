"""Form handling for due process: each call is one transaction around one service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

import scoring
from portal.db import Database
from portal.errors import NotFound, PermissionDenied
from portal.models import (
    Appeal,
    AppealStatus,
    Claim,
    CorrectionRequest,
    Entity,
    Notification,
    Record,
    Response,
    utcnow,
)
from portal.services.access import Actor
from portal.services.appeals import decide_appeal, file_appeal
from portal.services.due_process import (
    decide_claim,
    decide_correction,
    hide_response,
    publish_response,
    register_representative,
    request_correction,
)
from portal.services.notifications import inbox
from portal.services.public import EntityPage, entity_page
from portal.services.records import record_by_ref


def register(db: Database, form: Mapping[str, str]) -> None:
    """Open a representative account with a claim."""
    with db.writing() as session:
        register_representative(
            session,
            form.get("email", ""),
            form.get("password", ""),
            form.get("entity", ""),
            form.get("evidence", ""),
        )


@dataclass
class OrganisationDesk:
    """A representative's workspace."""

    claims: list[tuple[Claim, str]]
    page: EntityPage | None
    appeal_deadlines: dict[str, datetime]
    notifications: list[Notification]


def organisation_desk(session: Session, actor: Actor) -> OrganisationDesk:
    """Claims and, once verified, the entity's records with their appeal deadlines."""
    claims = session.exec(
        select(Claim, Entity.name)
        .join(Entity, col(Entity.id) == Claim.entity_id)
        .where(Claim.user_id == actor.user_id)
        .order_by(col(Claim.id).desc())
    ).all()
    page, deadlines = None, {}
    if actor.entity_id:
        entity = session.get(Entity, actor.entity_id)
        if entity is not None:
            page = entity_page(session, entity.slug)
            rulebook = scoring.default_rulebooks().select(entity.jurisdiction_code, utcnow().date())
            for record in page.records:
                if record.published_at and record.status == "published":
                    closes = record.published_at + timedelta(days=rulebook.appeal_file_within_days)
                    if closes > utcnow():
                        deadlines[record.ref] = closes
    notes = inbox(session, actor.user_id or 0)
    return OrganisationDesk([(c, n) for c, n in claims], page, deadlines, notes)


def representative_action(
    db: Database, actor: Actor, ref: str, action: str, form: Mapping[str, str]
) -> None:
    """Reply to or appeal a finding about one's own entity."""
    with db.writing() as session:
        record = record_by_ref(session, ref)
        if action == "reply":
            publish_response(session, actor, record, form.get("body", ""))
        elif action == "appeal":
            file_appeal(session, actor, record, form.get("grounds", ""))
        else:
            raise NotFound(f"Unknown action {action!r}.")


def ask_correction(db: Database, actor: Actor, form: Mapping[str, str]) -> None:
    """File a correction request for one's entity."""
    with db.writing() as session:
        request_correction(
            session,
            actor,
            form.get("field", ""),
            form.get("proposed", ""),
            form.get("explanation", ""),
        )


def regulator_action(
    db: Database, actor: Actor, ref: str, action: str, form: Mapping[str, str]
) -> None:
    """Decide an appeal or hide a reply on one of the agency's findings."""
    with db.writing() as session:
        record = record_by_ref(session, ref)
        if actor.agency_id != record.agency_id:
            raise PermissionDenied("This record belongs to another agency.")
        if action == "decide":
            appeal = session.exec(
                select(Appeal).where(
                    Appeal.record_id == record.id, Appeal.status == AppealStatus.OPEN
                )
            ).first()
            if appeal is None:
                raise NotFound("There is no open appeal on this record.")
            changes = {"severity": form["severity"]} if form.get("severity") else {}
            decide_appeal(
                session, actor, appeal, form.get("outcome", ""), form.get("reason", ""), changes
            )
        elif action == "hide":
            response = session.get(Response, int(form.get("response_id") or 0))
            if response is None or response.record_id != record.id:
                raise NotFound("No such reply on this record.")
            hide_response(session, actor, response, form.get("reason", ""))
        else:
            raise NotFound(f"Unknown action {action!r}.")


def admin_decision(
    db: Database, actor: Actor, kind: str, item_id: int, form: Mapping[str, str]
) -> str:
    """Verify or reject a claim; apply or decline a correction request."""
    approve = form.get("decision") in ("verify", "apply")
    with db.writing() as session:
        if kind == "claim":
            claim = session.get(Claim, item_id)
            if claim is None:
                raise NotFound("No such claim.")
            decided_claim = decide_claim(session, actor, claim, approve, form.get("reason", ""))
            return f"Claim {decided_claim.status}."
        request = session.get(CorrectionRequest, item_id)
        if request is None:
            raise NotFound("No such request.")
        decided = decide_correction(session, actor, request, approve, form.get("reason", ""))
        return f"Request {decided.status}."


def record_appeal(session: Session, record: Record) -> tuple[Appeal | None, list[Response]]:
    """A record's open appeal and visible replies, for the regulator's record page."""
    appeal = session.exec(
        select(Appeal).where(Appeal.record_id == record.id, Appeal.status == AppealStatus.OPEN)
    ).first()
    responses = session.exec(
        select(Response).where(Response.record_id == record.id, col(Response.hidden_at).is_(None))
    ).all()
    return appeal, list(responses)
