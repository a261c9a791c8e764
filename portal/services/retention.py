"""Officials' records leave public view a set time after their term, and the log says so."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from portal.models import AuditEvent, Entity, EntityKind
from portal.services.access import Actor, may_manage_register, require
from portal.services.audit import append_event
from portal.services.public import records_in_view

ACTION = "entity.left_public_view"


def apply_retention(session: Session, actor: Actor, today: date) -> list[str]:
    """Log every official whose records left public view and was not logged yet."""
    require(may_manage_register(actor), "apply the retention rules")
    logged = set(
        session.exec(select(AuditEvent.entity_id).where(AuditEvent.action == ACTION)).all()
    )
    officials = session.exec(
        select(Entity).where(Entity.kind == EntityKind.OFFICIAL, col(Entity.term_end).is_not(None))
    ).all()
    retired = []
    for official in officials:
        if official.id in logged or records_in_view(official, today):
            continue
        payload = {"term_end": official.term_end, "on": today}
        append_event(session, actor, ACTION, ("entity", official.slug), payload, official.id)
        retired.append(official.slug)
    return retired
