"""Administration: agencies' settings and merging duplicate entities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from portal.errors import Conflict, ValidationFailed
from portal.models import Agency, Entity, EntityAlias, Record, utcnow
from portal.services.access import Actor, may_manage_register, require
from portal.services.audit import append_event
from portal.services.entities import ensure_jurisdiction
from portal.services.records import log_record_event
from portal.services.scores import refresh_score
from search.names import name_key

UNCHANGED = object()


def update_agency(
    session: Session,
    actor: Actor,
    agency: Agency,
    categories: Sequence[str],
    requires_second_approval: bool,
    requires_totp: bool,
    name: str | None = None,
    jurisdiction: Any = UNCHANGED,
) -> Agency:
    """Change what an agency may publish, how its findings are checked, its name, and where
    it is (a jurisdiction code, or None for an international body)."""
    require(may_manage_register(actor), "change agencies")
    clean = [c.strip() for c in categories if c.strip()]
    if not clean:
        raise ValidationFailed("An agency needs categories.", {"categories": "are required"})
    wanted: list[tuple[str, Any]] = [
        ("categories", clean),
        ("requires_totp", requires_totp),
        ("requires_second_approval", requires_second_approval),
    ]
    if name is not None:
        if not name.strip():
            raise ValidationFailed("An agency needs a name.", {"name": "is required"})
        wanted.append(("name", name.strip()))
    if jurisdiction is not UNCHANGED:
        if jurisdiction:
            ensure_jurisdiction(session, actor, jurisdiction)
        wanted.append(("jurisdiction_code", jurisdiction or None))
    changes = {
        key: {"from": getattr(agency, key), "to": value}
        for key, value in wanted
        if getattr(agency, key) != value
    }
    for key, change in changes.items():
        setattr(agency, key, change["to"])
    session.add(agency)
    if changes:
        append_event(
            session, actor, "agency.updated", ("agency", agency.slug), {"changes": changes}
        )
    return agency


def merge_entities(session: Session, actor: Actor, source: Entity, target: Entity) -> Entity:
    """Merge a duplicate into the entity that stays: its records, aliases and name move over."""
    require(may_manage_register(actor), "merge entities")
    if source.id == target.id or source.merged_into_id or target.merged_into_id:
        raise Conflict("Pick two different entities that are not merged already.")
    known = set(
        session.exec(select(EntityAlias.name_key).where(EntityAlias.entity_id == target.id))
    )
    for alias in session.exec(select(EntityAlias).where(EntityAlias.entity_id == source.id)).all():
        session.delete(alias)
        known.add(alias.name_key)
        session.add(
            EntityAlias(
                entity_id=target.id or 0,
                name=alias.name,
                name_key=alias.name_key,
                former=alias.former,
            )
        )
    if name_key(source.name) not in known | {target.name_key}:
        session.add(
            EntityAlias(entity_id=target.id or 0, name=source.name, name_key=name_key(source.name))
        )
    for record in session.exec(select(Record).where(Record.entity_id == source.id)).all():
        record.entity_id = target.id or 0
        session.add(record)
        log_record_event(session, actor, "record.moved", record, {"from_entity": source.slug})
    source.merged_into_id = target.id
    source.updated_at = utcnow()
    session.add(source)
    session.flush()
    payload = {"into": target.slug}
    append_event(session, actor, "entity.merged", ("entity", source.slug), payload, source.id)
    refresh_score(session, target.id or 0)
    refresh_score(session, source.id or 0)
    return target


def entities_by_slugs(session: Session, slugs: Sequence[str]) -> list[Entity]:
    """Entities in the order of the slugs given; ValidationFailed naming any unknown."""
    found = {e.slug: e for e in session.exec(select(Entity).where(col(Entity.slug).in_(slugs)))}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise ValidationFailed("Unknown entity.", {"slug": f"no entity {missing[0]!r}"})
    return [found[s] for s in slugs]
