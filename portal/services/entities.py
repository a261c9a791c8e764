"""Creating and changing entities, each change on the change log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from slugify import slugify
from sqlmodel import Session, col, select

from portal.errors import NotFound, ValidationFailed
from portal.models import Entity, EntityAlias, EntityKind, Jurisdiction, utcnow
from portal.services import fields
from portal.services.access import Actor, may_create_entity, may_manage_register, require
from portal.services.audit import append_event
from portal.services.scores import apply_score, compute_score, entity_facts
from search.names import name_key


@dataclass
class EntityInput:
    """A validated entity, ready to be created."""

    name: str
    kind: EntityKind
    jurisdiction: str
    slug: str | None = None
    sector: str | None = None
    registration_id: str | None = None
    aliases: list[str] = field(default_factory=list)
    parent_slug: str | None = None
    address: str | None = None
    website: str | None = None
    role_title: str | None = None
    body_slug: str | None = None
    term_start: date | None = None
    term_end: date | None = None


def parse_entity(row: Mapping[str, str | None]) -> EntityInput:
    """Validate one entity row of the import format; raise with every field's problem."""
    errors: dict[str, str] = {}

    def take(name: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return parse(row.get(name), *args, **kwargs)
        except fields.FieldError as exc:
            errors[name] = str(exc)
            return None

    data = {
        "name": take("name", fields.text, required=True),
        "kind": take("kind", fields.choice, EntityKind),
        "jurisdiction": take("jurisdiction", fields.jurisdiction_code),
        "slug": take("slug", _slug_field),
        "sector": take("sector", fields.text, max_length=100),
        "registration_id": take("registration_id", fields.text, max_length=100),
        "aliases": take("aliases", _aliases) or [],
        "parent_slug": take("parent_slug", fields.text, max_length=120),
        "address": take("address", fields.text, max_length=500),
        "website": take("website", fields.url),
        "role_title": take("role_title", fields.text, max_length=200),
        "body_slug": take("body_slug", fields.text, max_length=120),
        "term_start": take("term_start", fields.iso_date),
        "term_end": take("term_end", fields.iso_date),
    }
    _check_official(data, errors)
    if errors:
        raise ValidationFailed("The entity is not valid.", errors)
    return EntityInput(**data)


def _check_official(data: dict[str, Any], errors: dict[str, str]) -> None:
    """Officials are registered only in an office: a role and a coherent term."""
    if data["kind"] == EntityKind.OFFICIAL and not data["role_title"]:
        errors.setdefault("role_title", "is required for an official")
    if data["term_start"] and data["term_end"] and data["term_end"] < data["term_start"]:
        errors.setdefault("term_end", "is before term_start")


def _slug_field(value: str | None) -> str | None:
    """An explicit slug must already be in slug form."""
    value = (value or "").strip()
    if not value:
        return None
    if slugify(value) != value or len(value) > 120:
        raise fields.FieldError("must be lower-case letters, digits and hyphens")
    return value


def _aliases(value: str | None) -> list[str]:
    """Aliases separated by '|'."""
    names = [fields.text(part, max_length=300) for part in (value or "").split("|")]
    return list(dict.fromkeys(n for n in names if n))


def ensure_jurisdiction(
    session: Session, actor: Actor, code: str, occurred_at: datetime | None = None
) -> Jurisdiction:
    """The jurisdiction row for an ISO code, created (with its parents) when first used."""
    found = session.get(Jurisdiction, code)
    if found:
        return found
    name = fields.jurisdiction_name(code)
    if name is None:
        raise ValidationFailed(f"Unknown jurisdiction {code!r}.", {"jurisdiction": "unknown"})
    parent_code = code.rsplit("-", 1)[0] if "-" in code else None
    parent = ensure_jurisdiction(session, actor, parent_code, occurred_at) if parent_code else None
    row = Jurisdiction(code=code, name=name, parent_code=parent.code if parent else None)
    session.add(row)
    session.flush()
    payload = {"code": code, "name": name, "parent": row.parent_code}
    obj = ("jurisdiction", code)
    append_event(session, actor, "jurisdiction.created", obj, payload, None, occurred_at)
    return row


def unique_slug(session: Session, name: str) -> str:
    """A readable slug for a name that no other entity has."""
    base = slugify(name, max_length=80, word_boundary=True) or "entity"
    taken = set(session.exec(select(Entity.slug).where(col(Entity.slug).startswith(base))).all())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def entity_by_slug(session: Session, slug: str) -> Entity:
    """The entity with this slug, or NotFound."""
    entity = session.exec(select(Entity).where(Entity.slug == slug)).first()
    if entity is None:
        raise NotFound(f"No entity has the slug {slug!r}.")
    return entity


def create_entity(
    session: Session, actor: Actor, data: EntityInput, occurred_at: datetime | None = None
) -> Entity:
    """Create an entity with its aliases and log it, in the caller's transaction."""
    require(may_create_entity(actor), "add entities to the register")
    ensure_jurisdiction(session, actor, data.jurisdiction)
    if data.slug and session.exec(select(Entity.id).where(Entity.slug == data.slug)).first():
        raise ValidationFailed("The slug is taken.", {"slug": f"{data.slug!r} is taken"})
    entity = Entity(
        slug=data.slug or unique_slug(session, data.name),
        kind=data.kind,
        name=data.name,
        name_key=name_key(data.name),
        registration_id=data.registration_id,
        jurisdiction_code=data.jurisdiction,
        sector=data.sector,
        parent_id=entity_by_slug(session, data.parent_slug).id if data.parent_slug else None,
        address=data.address,
        website=data.website,
        role_title=data.role_title,
        body_id=entity_by_slug(session, data.body_slug).id if data.body_slug else None,
        term_start=data.term_start,
        term_end=data.term_end,
    )
    # Scored from the start (the baseline, in band A under the default rulebook), so a new
    # entity is counted by band on the home page and found by the band facet at once.
    day = (occurred_at or utcnow()).date()
    apply_score(entity, compute_score(entity_facts(entity), [], day))
    session.add(entity)
    session.flush()
    for alias in data.aliases:
        session.add(EntityAlias(entity_id=entity.id, name=alias, name_key=name_key(alias)))
    payload = {**asdict(data), "slug": entity.slug}
    append_event(
        session, actor, "entity.created", ("entity", entity.slug), payload, entity.id, occurred_at
    )
    return entity


UPDATABLE = (
    "name",
    "sector",
    "registration_id",
    "address",
    "website",
    "role_title",
    "term_start",
    "term_end",
)


def update_entity(
    session: Session, actor: Actor, entity: Entity, changes: Mapping[str, Any]
) -> Entity:
    """Change an entity's details and log what changed from what."""
    require(may_manage_register(actor), "change entity details")
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValidationFailed("Unknown fields.", {k: "cannot be changed" for k in unknown})
    diff = {
        key: {"from": getattr(entity, key), "to": value}
        for key, value in changes.items()
        if getattr(entity, key) != value
    }
    if not diff:
        return entity
    for key, change in diff.items():
        setattr(entity, key, change["to"])
    entity.name_key = name_key(entity.name)
    entity.updated_at = utcnow()
    session.add(entity)
    append_event(
        session, actor, "entity.updated", ("entity", entity.slug), {"changes": diff}, entity.id
    )
    return entity


def entity_for_row(session: Session, row: Mapping[str, Any]) -> Entity:
    """The entity a record row names, by slug or by a registration id held by one entity."""
    slug = (row.get("entity_slug") or "").strip()
    reg_id = (row.get("entity_registration_id") or "").strip()
    if slug:
        entity = session.exec(select(Entity).where(Entity.slug == slug)).first()
        if entity is None:
            raise ValidationFailed("unknown entity", {"entity_slug": f"no entity {slug!r}"})
        return entity
    if not reg_id:
        raise ValidationFailed(
            "no entity", {"entity_slug": "or entity_registration_id is required"}
        )
    matches = session.exec(select(Entity).where(Entity.registration_id == reg_id).limit(2)).all()
    if len(matches) != 1:
        reason = "matches no entity" if not matches else "matches more than one entity"
        raise ValidationFailed("entity", {"entity_registration_id": f"{reg_id!r} {reason}"})
    return matches[0]
