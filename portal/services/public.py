"""What the public may read: entities, their visible records and explained scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

import scoring
from portal.errors import Moved, NotFound
from portal.models import PUBLIC_STATUSES, Agency, Entity, EntityAlias, Record, Response, utcnow
from portal.services.scores import compute_score, entity_facts, record_facts


@dataclass
class EntityView:
    """An entity with the names and links its public pages and API show."""

    entity: Entity
    aliases: list[str]
    parent_slug: str | None
    body_slug: str | None
    parent_name: str | None = None
    body_name: str | None = None


def entity_view(session: Session, slug: str) -> EntityView:
    """The public view of one entity, or NotFound."""
    entity = session.exec(select(Entity).where(Entity.slug == slug)).first()
    if entity is None:
        raise NotFound(f"No entity has the slug {slug!r}.")
    if entity.merged_into_id:
        target = session.get(Entity, entity.merged_into_id)
        raise Moved(slug, target.slug if target else slug)
    if not records_in_view(entity):
        raise NotFound(
            "Records about this official have left public view: the rulebook keeps "
            "them public for a set number of years after the end of the term."
        )
    aliases = session.exec(
        select(EntityAlias.name).where(EntityAlias.entity_id == entity.id).order_by(EntityAlias.id)
    ).all()
    related = {entity.parent_id, entity.body_id} - {None}
    rows = session.exec(
        select(Entity.id, Entity.slug, Entity.name).where(col(Entity.id).in_(related))
    ).all()
    found = {id_: (slug, name) for id_, slug, name in rows}
    parent_slug, parent_name = found.get(entity.parent_id, (None, None))
    body_slug, body_name = found.get(entity.body_id, (None, None))
    return EntityView(entity, list(aliases), parent_slug, body_slug, parent_name, body_name)


def records_in_view(entity: Entity, today: date | None = None) -> bool:
    """False once an official's records have left public view (rulebook: officials)."""
    day = today or utcnow().date()
    rulebook = scoring.default_rulebooks().select(entity.jurisdiction_code, day)
    return scoring.is_public(entity_facts(entity), rulebook, day)


def scored_records(session: Session, entity: Entity) -> list[Record]:
    """The records the score reads: published or under appeal."""
    return list(
        session.exec(
            select(Record)
            .where(Record.entity_id == entity.id, col(Record.status).in_(PUBLIC_STATUSES))
            .order_by(col(Record.decided_on).desc(), col(Record.id).desc())
        ).all()
    )


def explained_score(
    entity: Entity, records: list[Record], as_of: date | None = None
) -> tuple[scoring.Score, tuple[scoring.ScoreChange, ...]]:
    """The explained score of an entity with these records, and what changes next."""
    day = as_of or utcnow().date()
    facts = [record_facts(r) for r in records]
    result = compute_score(entity_facts(entity), facts, day)
    rulebook = scoring.default_rulebooks().select(entity.jurisdiction_code, day)
    upcoming = scoring.upcoming_changes(entity_facts(entity), facts, rulebook, day)
    return result, upcoming


def current_score(
    session: Session, entity: Entity
) -> tuple[scoring.Score, tuple[scoring.ScoreChange, ...]]:
    """The explained score today and what changes next."""
    return explained_score(entity, scored_records(session, entity))


@dataclass
class EntityPage:
    """Everything the entity page shows, read in a fixed number of queries."""

    view: EntityView
    score: scoring.Score
    upcoming: tuple[scoring.ScoreChange, ...]
    records: list[Record]
    agency_names: dict[int, str]
    in_view: bool
    responses: dict[int, list[Response]]
    subsidiaries: list[Entity]
    group_records: int


def entity_page(session: Session, slug: str) -> EntityPage:
    """The public profile of an entity: score, explanation and records."""
    view = entity_view(session, slug)
    in_view = records_in_view(view.entity)
    records = scored_records(session, view.entity) if in_view else []
    score, upcoming = explained_score(view.entity, records)
    agency_ids = {r.agency_id for r in records}
    names = dict(
        session.exec(select(Agency.id, Agency.name).where(col(Agency.id).in_(agency_ids))).all()
    )
    responses: dict[int, list[Response]] = {}
    for response in session.exec(
        select(Response)
        .where(
            col(Response.record_id).in_([r.id for r in records]), col(Response.hidden_at).is_(None)
        )
        .order_by(col(Response.published_at))
    ).all():
        responses.setdefault(response.record_id, []).append(response)
    subsidiaries, group_records = group_of(session, view.entity)
    return EntityPage(
        view, score, upcoming, records, names, in_view, responses, subsidiaries, group_records
    )


def group_of(session: Session, entity: Entity) -> tuple[list[Entity], int]:
    """A parent's subsidiaries and the published records of the whole group (two queries)."""
    subsidiaries = list(
        session.exec(
            select(Entity)
            .where(Entity.parent_id == entity.id, col(Entity.merged_into_id).is_(None))
            .order_by(col(Entity.name))
            .limit(200)
        ).all()
    )
    if not subsidiaries:
        return [], 0
    ids = [entity.id, *(s.id for s in subsidiaries)]
    total = session.exec(
        select(func.count())
        .select_from(Record)
        .where(col(Record.entity_id).in_(ids), col(Record.status).in_(PUBLIC_STATUSES))
    ).one()
    return subsidiaries, total


def public_records(
    session: Session, entity: Entity, page: int, per_page: int
) -> tuple[list[tuple[Record, str]], int]:
    """A page of an entity's public records with their agency slugs, and the total."""
    if not records_in_view(entity):
        return [], 0
    where = (Record.entity_id == entity.id, col(Record.status).in_(PUBLIC_STATUSES))
    total = session.exec(select(func.count()).select_from(Record).where(*where)).one()
    rows = session.exec(
        select(Record, Agency.slug)
        .join(Agency, col(Agency.id) == Record.agency_id)
        .where(*where)
        .order_by(col(Record.decided_on).desc(), col(Record.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return [(record, agency_slug) for record, agency_slug in rows], total
