"""The home page's read model: the register in numbers and the newest published findings."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from portal.models import (
    KIND_LABELS,
    Agency,
    Entity,
    EntityKind,
    Jurisdiction,
    Record,
    RecordStatus,
)
from portal.services.search.documents import head_seq
from portal.services.search.labels import band_labels

# The counts read whole tables (0.5 s at 1,000,000 entities), so each process keeps them:
# after a change they are counted again once they are this old, and in any case after a
# minute (stored scores can change without a change-log event, by `portal scores recompute`).
COUNTS_FRESH_S = 5.0
COUNTS_MAX_AGE_S = 60.0
_counts_lock = threading.Lock()


def register_counts(session: Session) -> dict[str, object]:
    """The register in numbers, in four grouped queries."""
    by_kind = dict(session.exec(select(Entity.kind, func.count()).group_by(Entity.kind)).all())
    by_band = dict(
        session.exec(
            select(Entity.band, func.count())
            .where(col(Entity.band).is_not(None))
            .group_by(Entity.band)
        ).all()
    )
    published = session.exec(
        select(func.count()).select_from(Record).where(Record.status == RecordStatus.PUBLISHED)
    ).one()
    agencies = session.exec(select(func.count()).select_from(Agency)).one()
    jurisdictions = session.exec(select(func.count()).select_from(Jurisdiction)).one()
    return {
        "counts": {
            "entities": sum(by_kind.values()),
            "records": published,
            "agencies": agencies,
            "jurisdictions": jurisdictions,
        },
        "by_kind": [(KIND_LABELS[k], by_kind.get(k, 0)) for k in EntityKind],
        "by_band": [(b, label, by_band[b]) for b, label in band_labels().items() if b in by_band],
    }


def cached_counts(session: Session, cache: dict[str, Any]) -> dict[str, object]:
    """`register_counts`, remembered in `cache` (one per app) by change-log head and age."""
    head, now = head_seq(session), time.monotonic()
    with _counts_lock:
        entry = cache.get("entry")
        if entry is not None:
            seq, at, counts = entry
            age = now - at
            if age < COUNTS_MAX_AGE_S and (seq == head or age < COUNTS_FRESH_S):
                return counts
    counts = register_counts(session)
    with _counts_lock:
        cache["entry"] = (head, now, counts)
    return counts


def latest_findings(session: Session, limit: int = 10) -> list[dict[str, object]]:
    """The newest published findings with their entity and agency, in one query."""
    rows = session.exec(
        select(Record, Entity.name, Entity.slug, Agency.name)
        .join(Entity, col(Entity.id) == Record.entity_id)
        .join(Agency, col(Agency.id) == Record.agency_id)
        .where(Record.status == RecordStatus.PUBLISHED)
        .order_by(col(Record.published_at).desc(), col(Record.id).desc())
        .limit(limit)
    ).all()
    return [
        {
            "ref": record.ref,
            "title": record.title,
            "nature": str(record.nature),
            "published_at": record.published_at,
            "entity_name": entity_name,
            "entity_slug": entity_slug,
            "agency_name": agency_name,
        }
        for record, entity_name, entity_slug, agency_name in rows
    ]
