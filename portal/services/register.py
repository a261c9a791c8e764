"""Jurisdictions and agencies: the frame the register's findings sit in."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from portal.errors import ValidationFailed
from portal.models import Agency, utcnow
from portal.services.access import Actor, may_manage_register, require
from portal.services.audit import append_event
from portal.services.entities import ensure_jurisdiction


def create_agency(
    session: Session,
    actor: Actor,
    slug: str,
    name: str,
    jurisdiction: str | None,
    categories: list[str],
    requires_second_approval: bool = False,
    occurred_at: datetime | None = None,
) -> Agency:
    """Add a publishing agency with the categories it may publish (no jurisdiction: an
    international body)."""
    require(may_manage_register(actor), "add agencies")
    if session.exec(select(Agency.id).where(Agency.slug == slug)).first():
        raise ValidationFailed("The slug is taken.", {"slug": f"{slug!r} is taken"})
    if not categories:
        raise ValidationFailed("An agency needs categories.", {"categories": "are required"})
    if jurisdiction:
        ensure_jurisdiction(session, actor, jurisdiction, occurred_at)
    agency = Agency(
        slug=slug,
        name=name,
        jurisdiction_code=jurisdiction,
        categories=list(categories),
        requires_second_approval=requires_second_approval,
        created_at=occurred_at or utcnow(),
    )
    session.add(agency)
    session.flush()
    payload = {
        "slug": slug,
        "name": name,
        "jurisdiction": jurisdiction,
        "categories": list(categories),
        "requires_second_approval": requires_second_approval,
    }
    append_event(session, actor, "agency.created", ("agency", slug), payload, None, occurred_at)
    return agency
