"""Turning database rows into search documents, and the change feed the index follows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from portal.models import PUBLIC_STATUSES, Agency, AuditEvent, Entity, EntityAlias, Record
from portal.services.public import records_in_view
from search.base import ChangeBatch, Doc, DocType, EntityDoc, RecordDoc

BATCH = 2000


def _entity_docs(session: Session, entities: Sequence[Entity]) -> list[EntityDoc]:
    """Entity documents with aliases and parent names, in two queries."""
    ids = [e.id for e in entities]
    aliases: dict[int, list[str]] = {}
    for entity_id, name in session.exec(
        select(EntityAlias.entity_id, EntityAlias.name)
        .where(col(EntityAlias.entity_id).in_(ids))
        .order_by(col(EntityAlias.id))
    ).all():
        aliases.setdefault(entity_id, []).append(name)
    parent_ids = {e.parent_id for e in entities if e.parent_id}
    parents = dict(
        session.exec(select(Entity.id, Entity.name).where(col(Entity.id).in_(parent_ids))).all()
    )
    return [
        EntityDoc(
            key=e.slug,
            name=e.name,
            kind=str(e.kind),
            jurisdiction=e.jurisdiction_code,
            aliases=tuple(aliases.get(e.id or 0, ())),
            registration_id=e.registration_id,
            sector=e.sector,
            score=e.score,
            band=e.band,
            parent=parents.get(e.parent_id) if e.parent_id else None,
        )
        for e in entities
    ]


def _record_rows(session: Session, where: Iterable[object]) -> list[tuple[Record, Entity, Agency]]:
    """Records with their entity and agency."""
    return list(
        session.exec(
            select(Record, Entity, Agency)
            .join(Entity, col(Entity.id) == Record.entity_id)
            .join(Agency, col(Agency.id) == Record.agency_id)
            .where(*where)
            .order_by(col(Record.id))
        ).all()
    )


def record_doc(record: Record, entity: Entity, agency: Agency) -> RecordDoc:
    """A public record as a search document."""
    return RecordDoc(
        key=record.ref,
        title=record.title,
        entity_key=entity.slug,
        entity_name=entity.name,
        agency=agency.slug,
        agency_name=agency.name,
        nature=str(record.nature),
        category=record.category,
        severity=str(record.severity),
        decided_on=record.decided_on,
        jurisdiction=entity.jurisdiction_code,
        summary=record.summary,
        statute=record.statute,
        published_at=record.published_at,
        penalty_amount=float(record.penalty_amount) if record.penalty_amount is not None else None,
        penalty_currency=record.penalty_currency,
        status=str(record.status),
    )


def all_documents(session: Session) -> Iterator[Doc]:
    """Every searchable document, streamed in id batches (for a full rebuild)."""
    last = 0
    while True:
        entities = session.exec(
            select(Entity).where(Entity.id > last).order_by(col(Entity.id)).limit(BATCH)
        ).all()
        if not entities:
            break
        yield from _entity_docs(session, [e for e in entities if _searchable(e)])
        last = entities[-1].id or 0
        session.expunge_all()
    last = 0
    public = col(Record.status).in_(PUBLIC_STATUSES)
    while True:
        rows = session.exec(
            select(Record, Entity, Agency)
            .join(Entity, col(Entity.id) == Record.entity_id)
            .join(Agency, col(Agency.id) == Record.agency_id)
            .where(Record.id > last, public)
            .order_by(col(Record.id))
            .limit(BATCH)
        ).all()
        if not rows:
            break
        yield from (record_doc(*row) for row in rows if _searchable(row[1]))
        last = rows[-1][0].id or 0
        session.expunge_all()


def _searchable(entity: Entity) -> bool:
    """Merged duplicates and officials past retention are not searchable."""
    return not entity.merged_into_id and records_in_view(entity)


def head_seq(session: Session) -> int:
    """The newest seq of the change log (0 when empty)."""
    return session.exec(select(func.max(AuditEvent.seq))).one() or 0


def changes_after(session: Session, seq: int, limit: int = 5000) -> ChangeBatch | None:
    """What the index must change to reflect the log up to `seq + limit`, or None if current."""
    events = session.exec(
        select(AuditEvent.seq, AuditEvent.object_type, AuditEvent.object_id, AuditEvent.entity_id)
        .where(AuditEvent.seq > seq)
        .order_by(col(AuditEvent.seq))
        .limit(limit)
    ).all()
    if not events:
        return None
    entity_ids = {entity_id for _s, _t, _o, entity_id in events if entity_id}
    entity_slugs = {obj for _s, kind, obj, _e in events if kind == "entity"}
    refs = {obj for _s, kind, obj, _e in events if kind == "record"}
    upserts: list[Doc] = []
    removals: list[tuple[DocType, str]] = []
    entities = session.exec(
        select(Entity).where(col(Entity.id).in_(entity_ids) | col(Entity.slug).in_(entity_slugs))
    ).all()
    visible = [e for e in entities if _searchable(e)]
    upserts.extend(_entity_docs(session, visible))
    removals.extend(("entity", e.slug) for e in entities if not _searchable(e))
    renamed = {e.id for e in entities if e.slug in entity_slugs or not _searchable(e)}
    rows = _record_rows(session, [col(Record.ref).in_(refs) | col(Record.entity_id).in_(renamed)])
    for record, entity, agency in rows:
        if record.status in PUBLIC_STATUSES and _searchable(entity):
            upserts.append(record_doc(record, entity, agency))
        else:
            removals.append(("record", record.ref))
    return ChangeBatch(seq=events[-1][0], upserts=tuple(upserts), removals=tuple(removals))
