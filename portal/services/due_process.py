"""Representatives: claims to represent an entity, the right of reply, correction requests."""

from __future__ import annotations

from sqlmodel import Session, col, select

from portal.errors import Conflict, NotFound, ValidationFailed
from portal.models import (
    PUBLIC_STATUSES,
    Claim,
    ClaimStatus,
    CorrectionRequest,
    Entity,
    Record,
    RequestStatus,
    Response,
    Role,
    User,
    utcnow,
)
from portal.services import fields
from portal.services.access import Actor, may_act_for_agency, may_manage_register, require
from portal.services.accounts import check_password, user_by_email
from portal.services.audit import append_event
from portal.services.entities import entity_by_slug, update_entity
from portal.services.notifications import admins, agency_users, notify, representatives
from portal.services.records import log_record_event

CORRECTABLE_DETAILS = ("name", "registration_id", "parent")


def register_representative(
    session: Session, email: str, password: str, entity_slug: str, evidence: str
) -> Claim:
    """Anyone may open an account and ask to represent an entity, with evidence."""
    from portal.services import accounts

    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 320:
        raise ValidationFailed("The email address is not valid.", {"email": "is not valid"})
    if user_by_email(session, email):
        raise ValidationFailed("An account with this email exists.", {"email": "is taken"})
    check_password(password)
    entity = entity_by_slug(session, (entity_slug or "").strip())
    text = _required(evidence, "evidence", 5000)
    user = User(email=email, password_hash=accounts.HASHER.hash(password), role=Role.REPRESENTATIVE)
    session.add(user)
    session.flush()
    claim = Claim(user_id=user.id or 0, entity_id=entity.id or 0, evidence=text)
    session.add(claim)
    session.flush()
    actor = Actor(f"user:{user.id}", Role.REPRESENTATIVE, user.id)
    append_event(
        session, actor, "claim.filed", ("claim", str(claim.id)), {"entity": entity.slug}, entity.id
    )
    notify(session, admins(session), f"New claim to represent {entity.name}.", "/admin/claims")
    return claim


def _required(value: str | None, name: str, max_length: int) -> str:
    """A required free-text field."""
    try:
        text = fields.text(value, required=True, max_length=max_length)
    except fields.FieldError as exc:
        raise ValidationFailed(f"The {name} is not valid.", {name: str(exc)}) from None
    assert text is not None
    return text


def decide_claim(session: Session, actor: Actor, claim: Claim, verify: bool, reason: str) -> Claim:
    """Verify or reject a claim with a reason the requester sees."""
    require(may_manage_register(actor), "decide claims")
    if claim.status != ClaimStatus.PENDING:
        raise Conflict("This claim has been decided.")
    claim.status = ClaimStatus.VERIFIED if verify else ClaimStatus.REJECTED
    claim.reason = _required(reason, "reason", 2000)
    claim.decided_at, claim.decided_by_id = utcnow(), actor.user_id
    user = session.get(User, claim.user_id)
    assert user is not None
    if verify:
        user.entity_id = claim.entity_id
        session.add(user)
    session.add(claim)
    append_event(
        session,
        actor,
        f"claim.{claim.status}",
        ("claim", str(claim.id)),
        {"reason": claim.reason},
        claim.entity_id,
    )
    notify(
        session,
        [user.id],
        f"Your claim was {claim.status}: {claim.reason}",
        "/workspace/organisation",
    )
    return claim


def publish_response(session: Session, actor: Actor, record: Record, body: str) -> Response:
    """A representative's public reply to a published finding about their entity."""
    require(
        actor.role == Role.REPRESENTATIVE and actor.entity_id == record.entity_id,
        "reply for another organisation",
    )
    if record.status not in PUBLIC_STATUSES:
        raise Conflict("Only a published finding can be answered.")
    response = Response(
        record_id=record.id or 0,
        entity_id=record.entity_id,
        author_id=actor.user_id,
        body=_required(body, "reply", 5000),
    )
    session.add(response)
    session.flush()
    log_record_event(session, actor, "response.published", record, {"response": response.body})
    notify(
        session,
        agency_users(session, record.agency_id),
        f"{record.ref} was answered.",
        f"/records/{record.ref}",
    )
    return response


def hide_response(session: Session, actor: Actor, response: Response, reason: str) -> Response:
    """The publishing agency hides a defamatory or unlawful reply, with a public reason."""
    record = session.get(Record, response.record_id)
    assert record is not None
    require(
        may_act_for_agency(actor, record.agency_id) and not actor.system,
        "hide replies to another agency's findings",
    )
    if response.hidden_at is not None:
        raise Conflict("This reply is already hidden.")
    response.hidden_reason = _required(reason, "reason", 2000)
    response.hidden_at, response.hidden_by_id = utcnow(), actor.user_id
    session.add(response)
    log_record_event(session, actor, "response.hidden", record, {"reason": response.hidden_reason})
    notify(
        session,
        representatives(session, record.entity_id),
        f"Your reply to {record.ref} was hidden: {response.hidden_reason}",
        f"/records/{record.ref}",
    )
    return response


def request_correction(
    session: Session, actor: Actor, field: str, proposed: str, explanation: str
) -> CorrectionRequest:
    """A representative asks an admin to correct their entity's details."""
    require(
        actor.role == Role.REPRESENTATIVE and actor.entity_id is not None,
        "request corrections without a verified claim",
    )
    if field not in CORRECTABLE_DETAILS:
        raise ValidationFailed(
            "Unknown field.", {"field": f"one of {', '.join(CORRECTABLE_DETAILS)}"}
        )
    request = CorrectionRequest(
        user_id=actor.user_id or 0,
        entity_id=actor.entity_id or 0,
        field=field,
        proposed=_required(proposed, "proposed", 300),
        explanation=_required(explanation, "explanation", 5000),
    )
    session.add(request)
    session.flush()
    notify(session, admins(session), "A correction request awaits a decision.", "/admin/requests")
    return request


def decide_correction(
    session: Session, actor: Actor, request: CorrectionRequest, apply: bool, reason: str
) -> CorrectionRequest:
    """Apply or decline a correction request, with a reason the requester sees."""
    require(may_manage_register(actor), "decide correction requests")
    if request.status != RequestStatus.PENDING:
        raise Conflict("This request has been decided.")
    entity = session.get(Entity, request.entity_id)
    if entity is None:
        raise NotFound("The entity no longer exists.")
    if apply:
        if request.field == "parent":
            entity.parent_id = entity_by_slug(session, request.proposed).id
            session.add(entity)
        else:
            update_entity(session, actor, entity, {request.field: request.proposed})
    request.status = RequestStatus.APPLIED if apply else RequestStatus.DECLINED
    request.reason = _required(reason, "reason", 2000)
    request.decided_at, request.decided_by_id = utcnow(), actor.user_id
    session.add(request)
    append_event(
        session,
        actor,
        f"correction.{request.status}",
        ("entity", entity.slug),
        {"field": request.field, "proposed": request.proposed, "reason": request.reason},
        entity.id,
    )
    notify(
        session,
        [request.user_id],
        f"Your correction request was {request.status}: {request.reason}",
        "/workspace/organisation",
    )
    return request


def pending(session: Session) -> tuple[list[Claim], list[CorrectionRequest]]:
    """Claims and correction requests waiting for an admin."""
    claims = session.exec(
        select(Claim).where(Claim.status == ClaimStatus.PENDING).order_by(col(Claim.id))
    ).all()
    requests = session.exec(
        select(CorrectionRequest)
        .where(CorrectionRequest.status == RequestStatus.PENDING)
        .order_by(col(CorrectionRequest.id))
    ).all()
    return list(claims), list(requests)
