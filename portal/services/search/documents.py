"""Turning database rows into search documents, and the change feed the index follows."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from portal.models import PUBLIC_STATUSES, Agency, AuditEvent, Entity, EntityAlias, Record
from portal.services.public import records_in_view
from search.base import ChangeBatch, Doc, DocType, EntityDoc, RecordDoc

BATCH = 2000


def _entity_docs(session: Session, entities: Sequence[Entity]) -> list[EntityDoc]:
    """Entity documents with aliases and parent names, in two queries."""
    aliases = _aliases(session, [e.id for e in entities if e.id is not None])
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
            sanction=e.sanction_note if e.under_sanction else None,
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
    """Every searchable document, streamed in id batches (for a full rebuild).

    Rows are read as plain tuples rather than ORM objects, and whether an entity
    is searchable is decided once per distinct set of the facts it depends on.
    The iterator's `length_hint` is the number of entities and public records,
    which an engine may use to plan a parallel build.
    """
    return _Documents(session)


class _Documents(Iterator[Doc]):
    """The documents of `all_documents`, with an estimate of how many there are."""

    # Slugs and refs are unique in the database: an engine need not track the uids.
    unique = True

    def __init__(self, session: Session) -> None:
        """Count entities and public records, and start streaming."""
        entities = session.exec(select(func.count()).select_from(Entity)).one()
        records = session.exec(
            select(func.count()).select_from(Record).where(col(Record.status).in_(PUBLIC_STATUSES))
        ).one()
        self._hint = int(entities) + int(records)
        self._docs = itertools.chain(_all_entity_docs(session), _all_record_docs(session))

    def __next__(self) -> Doc:
        """The next document."""
        return next(self._docs)

    def __length_hint__(self) -> int:
        """Entities and public records in the database (merged or retired ones included)."""
        return self._hint


_ENTITY_COLUMNS = (
    Entity.id,
    Entity.slug,
    Entity.name,
    Entity.kind,
    Entity.jurisdiction_code,
    Entity.registration_id,
    Entity.sector,
    Entity.score,
    Entity.band,
    Entity.parent_id,
    Entity.merged_into_id,
    Entity.term_end,
    Entity.sanction_note,
)
_RECORD_COLUMNS = (
    Record.id,
    Record.ref,
    Record.title,
    Record.summary,
    Record.statute,
    Record.nature,
    Record.category,
    Record.severity,
    Record.decided_on,
    Record.published_at,
    Record.penalty_amount,
    Record.penalty_currency,
    Record.status,
    Entity.slug,
    Entity.name,
    Entity.jurisdiction_code,
    Entity.merged_into_id,
    Entity.kind,
    Entity.term_end,
    Agency.slug,
    Agency.name,
)


class _Visibility:
    """`_searchable` from an entity's columns, decided once per distinct (kind, code, term end)."""

    def __init__(self) -> None:
        """Start knowing nothing."""
        self._known: dict[tuple[Any, ...], bool] = {}

    def __call__(self, merged_into_id: int | None, kind: Any, code: str, term_end: Any) -> bool:
        """True when an entity with these columns is searchable."""
        if merged_into_id:
            return False
        key = (kind, code, term_end)
        if key not in self._known:
            facts = Entity(kind=kind, jurisdiction_code=code, term_end=term_end)
            self._known[key] = records_in_view(facts)
        return self._known[key]


def _all_entity_docs(session: Session) -> Iterator[EntityDoc]:
    """Searchable entities in id order, as documents."""
    visible = _Visibility()
    last = 0
    while True:
        rows = session.exec(
            select(*_ENTITY_COLUMNS).where(Entity.id > last).order_by(col(Entity.id)).limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        rows = [r for r in rows if visible(r[10], r[3], r[4], r[11])]
        aliases = _aliases(session, [r[0] for r in rows])
        parents = _names(session, {r[9] for r in rows if r[9]})
        for id_, slug, name, kind, code, reg, sector, score, band, parent, _m, _t, note in rows:
            yield EntityDoc(
                key=slug,
                name=name,
                kind=str(kind),
                jurisdiction=code,
                aliases=tuple(aliases.get(id_, ())),
                registration_id=reg,
                sector=sector,
                score=score,
                band=band,
                parent=parents.get(parent) if parent else None,
                sanction=note,
            )


def _aliases(session: Session, ids: list[int]) -> dict[int, list[str]]:
    """Some entities' aliases, each entity's in the order they were added."""
    aliases: dict[int, list[str]] = {}
    for entity_id, name in session.exec(
        select(EntityAlias.entity_id, EntityAlias.name)
        .where(col(EntityAlias.entity_id).in_(ids))
        .order_by(col(EntityAlias.id))
    ).all():
        aliases.setdefault(entity_id, []).append(name)
    return aliases


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    """Entity names by id."""
    rows = session.exec(select(Entity.id, Entity.name).where(col(Entity.id).in_(ids))).all()
    return {id_: name for id_, name in rows if id_ is not None}


def _all_record_docs(session: Session) -> Iterator[RecordDoc]:
    """Public records of searchable entities in id order, as documents."""
    visible = _Visibility()
    public = col(Record.status).in_(PUBLIC_STATUSES)
    last = 0
    while True:
        rows = session.exec(
            select(*_RECORD_COLUMNS)
            .join(Entity, col(Entity.id) == Record.entity_id)
            .join(Agency, col(Agency.id) == Record.agency_id)
            .where(Record.id > last, public)
            .order_by(col(Record.id))
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        yield from (
            _record_doc_of(row) for row in rows if visible(row[16], row[17], row[15], row[18])
        )


def _record_doc_of(row: Any) -> RecordDoc:
    """A row of `_RECORD_COLUMNS` as a document (as `record_doc` makes it from objects)."""
    _id, ref, title, summary, statute, nature, category, severity, decided_on, *rest = row
    published_at, amount, currency, status, entity_key, entity_name, code, *_, agency, name = rest
    return RecordDoc(
        key=ref,
        title=title,
        entity_key=entity_key,
        entity_name=entity_name,
        agency=agency,
        agency_name=name,
        nature=str(nature),
        category=category,
        severity=str(severity),
        decided_on=decided_on,
        jurisdiction=code,
        summary=summary,
        statute=statute,
        published_at=published_at,
        penalty_amount=float(amount) if amount is not None else None,
        penalty_currency=currency,
        status=str(status),
    )


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
