"""The home page."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func
from sqlmodel import Session, col, select

from portal.app import get_db
from portal.models import (
    KIND_LABELS,
    Agency,
    Entity,
    EntityKind,
    Jurisdiction,
    Record,
    RecordStatus,
)

bp = Blueprint("main", __name__)

BAND_LABELS = {
    "A": "Good standing",
    "B": "Some concerns",
    "C": "Significant concerns",
    "D": "Serious concerns",
    "E": "Persistent serious violations",
}


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
        "by_band": [(b, label, by_band[b]) for b, label in BAND_LABELS.items() if b in by_band],
    }


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


@bp.get("/")
def index() -> str:
    """The home page: search, the register's counts and the newest findings."""
    with get_db().session() as session:
        context = register_counts(session)
        latest = latest_findings(session)
    return render_template("main/index.html", latest=latest, **context)
