"""Agency and jurisdiction pages: what each publishes, recent findings, appeal statistics."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

import scoring
from portal.errors import NotFound
from portal.models import (
    Agency,
    Appeal,
    AppealStatus,
    Entity,
    Jurisdiction,
    Record,
    RecordStatus,
    utcnow,
)


@dataclass
class AppealStats:
    """Public appeal statistics of one agency."""

    filed: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    median_days: float | None = None
    overdue: int = 0


@dataclass
class Finding:
    """A line in a list of recent findings."""

    ref: str
    title: str
    entity_name: str
    entity_slug: str
    published_at: object


def recent_findings(session: Session, *where: object, limit: int = 10) -> list[Finding]:
    """The newest published findings matching `where`."""
    rows = session.exec(
        select(Record.ref, Record.title, Entity.name, Entity.slug, Record.published_at)
        .join(Entity, col(Entity.id) == Record.entity_id)
        .where(Record.status == RecordStatus.PUBLISHED, *where)
        .order_by(col(Record.published_at).desc(), col(Record.id).desc())
        .limit(limit)
    ).all()
    return [Finding(*row) for row in rows]


def appeal_stats(session: Session, agency_ids: list[int], decide_within_days: int) -> AppealStats:
    """Appeals against these agencies' findings: filed, decided by outcome, median days to a
    decision, and open ones past the deadline."""
    rows = session.exec(
        select(Appeal.status, Appeal.filed_at, Appeal.decided_at)
        .join(Record, col(Record.id) == Appeal.record_id)
        .where(col(Record.agency_id).in_(agency_ids))
    ).all()
    stats = AppealStats(filed=len(rows))
    days = []
    deadline = utcnow() - timedelta(days=decide_within_days)
    for status, filed_at, decided_at in rows:
        stats.by_outcome[str(status)] = stats.by_outcome.get(str(status), 0) + 1
        if decided_at is not None:
            days.append((decided_at - filed_at).total_seconds() / 86400)
        elif status == AppealStatus.OPEN and filed_at < deadline:
            stats.overdue += 1
    stats.median_days = round(statistics.median(days), 1) if days else None
    return stats


@dataclass
class AgencyPage:
    """An agency with its categories, counts, recent findings and appeal statistics."""

    agency: Agency
    jurisdiction: Jurisdiction | None
    by_category: list[tuple[str, int]]
    recent: list[Finding]
    appeals: AppealStats


def agency_page(session: Session, slug: str) -> AgencyPage:
    """The public page of one agency."""
    agency = session.exec(select(Agency).where(Agency.slug == slug)).first()
    if agency is None:
        raise NotFound(f"No agency has the slug {slug!r}.")
    code = agency.jurisdiction_code
    rulebook = scoring.default_rulebooks().select(code or "default", utcnow().date())
    return AgencyPage(
        agency=agency,
        jurisdiction=session.get(Jurisdiction, code) if code else None,
        by_category=findings_by_category(session, [agency.id or 0]),
        recent=recent_findings(session, Record.agency_id == agency.id),
        appeals=appeal_stats(session, [agency.id or 0], rulebook.appeal_decide_within_days),
    )


def findings_by_category(session: Session, agency_ids: list[int]) -> list[tuple[str, int]]:
    """These agencies' published findings counted by category, most first."""
    if not agency_ids:
        return []
    rows = session.exec(
        select(Record.category, func.count())
        .where(col(Record.agency_id).in_(agency_ids), Record.status == RecordStatus.PUBLISHED)
        .group_by(Record.category)
        .order_by(func.count().desc(), Record.category)
    ).all()
    return [(c, n) for c, n in rows]


@dataclass
class JurisdictionPage:
    """A jurisdiction with its parts, rulebook, agencies, bands and recent findings."""

    jurisdiction: Jurisdiction
    parent: Jurisdiction | None
    children: list[Jurisdiction]
    rulebook: scoring.Rulebook
    agencies: list[Agency]
    by_band: list[tuple[str, int]]
    recent: list[Finding]
    by_category: list[tuple[str, int]]  # findings published by its regulators
    appeals: AppealStats  # against its regulators' findings


def jurisdiction_page(session: Session, code: str) -> JurisdictionPage:
    """The public page of one jurisdiction (its subdivisions included in counts)."""
    jurisdiction = session.get(Jurisdiction, code.upper())
    if jurisdiction is None:
        raise NotFound(f"No jurisdiction has the code {code!r}.")
    children = session.exec(
        select(Jurisdiction).where(Jurisdiction.parent_code == jurisdiction.code)
    ).all()
    codes = [jurisdiction.code, *(c.code for c in children)]
    in_scope = col(Entity.jurisdiction_code).in_(codes)
    by_band = session.exec(
        select(Entity.band, func.count())
        .where(in_scope)
        .group_by(Entity.band)
        .order_by(Entity.band)
    ).all()
    agencies = session.exec(
        select(Agency).where(col(Agency.jurisdiction_code).in_(codes)).order_by(Agency.name)
    ).all()
    rulebook = scoring.default_rulebooks().select(jurisdiction.code, utcnow().date())
    agency_ids = [a.id or 0 for a in agencies]
    return JurisdictionPage(
        jurisdiction=jurisdiction,
        parent=session.get(Jurisdiction, jurisdiction.parent_code)
        if jurisdiction.parent_code
        else None,
        children=list(children),
        rulebook=rulebook,
        agencies=list(agencies),
        by_band=[(b or "–", n) for b, n in by_band],
        recent=recent_findings(session, in_scope),
        by_category=findings_by_category(session, agency_ids),
        appeals=appeal_stats(session, agency_ids, rulebook.appeal_decide_within_days),
    )
