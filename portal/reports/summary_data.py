"""What the summary reports show: an agency's publications, or a jurisdiction or sector."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from portal.errors import NotFound, ValidationFailed
from portal.models import PUBLIC_STATUSES, Agency, Appeal, Entity, Record
from portal.services.fields import jurisdiction_name
from portal.services.public import records_in_view

BANDS = ("A", "B", "C", "D", "E")


@dataclass
class AgencySummary:
    """An agency's publications over a period, with appeals and their outcomes."""

    agency: Agency
    jurisdiction: str
    start: date
    end: date
    records: list[tuple[Record, str]]
    total: int
    by_category: list[tuple[str, float]]
    by_severity: list[tuple[str, float]]
    by_month: list[tuple[str, float]]
    ended: dict[str, int]
    appeals: dict[str, int]


def period(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """The period a request names (default: the last twelve months), or ValidationFailed."""
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=365)
    except ValueError as exc:
        raise ValidationFailed("Dates must be written YYYY-MM-DD.", {"period": str(exc)}) from exc
    if first > last or (last - first).days > 3660:
        raise ValidationFailed("The period must run forwards and cover at most ten years.")
    return first, last


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants that open and close a period of whole days, in UTC."""
    return datetime.combine(start, time(0), UTC), datetime.combine(end + timedelta(1), time(0), UTC)


def _counted(values: list[Any], limit: int = 12) -> list[tuple[str, float]]:
    """The most common values with their counts, labels made readable."""
    return [(str(v).replace("_", " "), n) for v, n in Counter(values).most_common(limit)]


def _by_month(moments: list[datetime]) -> list[tuple[str, float]]:
    """Counts per calendar month, oldest first, labelled like "November 2026"."""
    months = Counter(date(m.year, m.month, 1) for m in moments)
    return [(month.strftime("%B %Y"), n) for month, n in sorted(months.items())]


def _visible(rows: list[tuple[Record, Entity]]) -> list[tuple[Record, str]]:
    """Rows whose entity's records are in public view (officials leave it), with its name."""
    shown: dict[int, bool] = {}
    kept = []
    for record, entity in rows:
        if entity.id not in shown:
            shown[entity.id or 0] = records_in_view(entity)
        if shown[entity.id or 0]:
            kept.append((record, entity.name))
    return kept


def agency_summary(
    session: Session, slug: str, start: date, end: date, max_records: int
) -> AgencySummary:
    """Read what an agency published between two days (inclusive)."""
    agency = session.exec(select(Agency).where(Agency.slug == slug)).first()
    if agency is None:
        raise NotFound(f"No agency has the slug {slug!r}.")
    low, high = _bounds(start, end)
    in_period = (
        Record.agency_id == agency.id,
        col(Record.published_at) >= low,
        col(Record.published_at) < high,
    )
    facts = session.exec(
        select(Record.published_at, Record.category, Record.severity, Record.status).where(
            *in_period
        )
    ).all()
    public = [f for f in facts if f[3] in PUBLIC_STATUSES]
    listed = session.exec(
        select(Record, Entity)
        .join(Entity, col(Entity.id) == Record.entity_id)
        .where(*in_period, col(Record.status).in_(PUBLIC_STATUSES))
        .order_by(col(Record.published_at), col(Record.id))
        .limit(max_records)
    ).all()
    return AgencySummary(
        agency=agency,
        jurisdiction=(
            jurisdiction_name(agency.jurisdiction_code) or agency.jurisdiction_code
            if agency.jurisdiction_code
            else "International"
        ),
        start=start,
        end=end,
        records=_visible(list(listed)),
        total=len(public),
        by_category=_counted([f[1] for f in public]),
        by_severity=_counted([f[2] for f in public]),
        by_month=_by_month([f[0] for f in public if f[0]]),
        ended=dict(_counted([f[3] for f in facts if f[3] not in PUBLIC_STATUSES])),
        appeals=_appeal_outcomes(session, agency, low, high),
    )


def _appeal_outcomes(
    session: Session, agency: Agency, low: datetime, high: datetime
) -> dict[str, int]:
    """Appeals filed in a period against an agency's records, counted by status."""
    rows = session.exec(
        select(Appeal.status, func.count())
        .join(Record, col(Record.id) == Appeal.record_id)
        .where(Record.agency_id == agency.id, col(Appeal.filed_at) >= low)
        .where(col(Appeal.filed_at) < high)
        .group_by(col(Appeal.status))
    ).all()
    return {str(status): count for status, count in rows}


@dataclass
class RegisterSummary:
    """Entities of a jurisdiction or sector by band, their largest penalties and categories."""

    title: str
    scope: str
    entities: int
    by_band: list[tuple[str, float]]
    by_kind: list[tuple[str, float]]
    by_category: list[tuple[str, float]]
    penalties: dict[str, list[tuple[Record, str]]] = field(default_factory=dict)
    lowest: list[Entity] = field(default_factory=list)


def _entity_filter(code: str | None, sector: str | None) -> list[Any]:
    """Conditions selecting the entities of a jurisdiction (with its subdivisions) or sector."""
    where: list[Any] = []
    if code:
        where.append(
            or_(
                Entity.jurisdiction_code == code,
                col(Entity.jurisdiction_code).startswith(f"{code}-"),
            )
        )
    if sector:
        where.append(Entity.sector == sector)
    return where


def _group_counts(session: Session, column: Any, where: list[Any]) -> dict[Any, int]:
    """Entities matching `where`, counted by one of their columns."""
    rows = session.exec(select(column, func.count()).where(*where).group_by(column)).all()
    return {value: count for value, count in rows}


def _top_categories(session: Session, where: list[Any], limit: int) -> list[tuple[str, float]]:
    """The most frequent categories of public records about the matching entities."""
    rows = session.exec(
        select(Record.category, func.count())
        .join(Entity, col(Entity.id) == Record.entity_id)
        .where(*where)
        .group_by(col(Record.category))
        .order_by(func.count().desc())
        .limit(limit)
    ).all()
    return [(category.replace("_", " "), n) for category, n in rows]


def register_summary(
    session: Session, code: str | None, sector: str | None, limit: int = 10
) -> RegisterSummary:
    """Summarise the entities of a jurisdiction, a sector, or a sector within a jurisdiction."""
    where = _entity_filter(code, sector)
    bands = _group_counts(session, col(Entity.band), where)
    total = sum(bands.values())
    if not total:
        raise NotFound("No entity in the register matches this jurisdiction or sector.")
    kinds = _group_counts(session, col(Entity.kind), where)
    public = [*where, col(Record.status).in_(PUBLIC_STATUSES)]
    lowest = session.exec(
        select(Entity)
        .where(*where, col(Entity.score).is_not(None))
        .order_by(col(Entity.score), col(Entity.id))
        .limit(limit * 3)
    ).all()
    return RegisterSummary(
        title=_scope_title(code, sector),
        scope=_scope_title(code, sector, short=True),
        entities=total,
        by_band=[(b, bands.get(b, 0)) for b in BANDS] + [("Not scored", bands.get(None, 0))],
        by_kind=[(str(k).replace("_", " "), n) for k, n in kinds.items()],
        by_category=_top_categories(session, public, limit),
        penalties=_largest_penalties(session, public, limit),
        lowest=[e for e in lowest if records_in_view(e)][:limit],
    )


def _largest_penalties(
    session: Session, where: list[Any], limit: int
) -> dict[str, list[tuple[Record, str]]]:
    """The largest public penalties in each of the three most used currencies."""
    currencies = session.exec(
        select(Record.penalty_currency, func.count())
        .join(Entity, col(Entity.id) == Record.entity_id)
        .where(*where, col(Record.penalty_amount).is_not(None))
        .group_by(col(Record.penalty_currency))
        .order_by(func.count().desc())
        .limit(3)
    ).all()
    result: dict[str, list[tuple[Record, str]]] = {}
    for currency, _count in currencies:
        rows = session.exec(
            select(Record, Entity)
            .join(Entity, col(Entity.id) == Record.entity_id)
            .where(*where, Record.penalty_currency == currency)
            .order_by(col(Record.penalty_amount).desc())
            .limit(limit * 3)
        ).all()
        result[str(currency)] = _visible(list(rows))[:limit]
    return result


def _scope_title(code: str | None, sector: str | None, short: bool = False) -> str:
    """Words for what a register summary covers."""
    place = f"{jurisdiction_name(code) or code} ({code})" if code else None
    if sector and place:
        return f"the {sector} sector in {place}"
    if sector:
        return f"the {sector} sector" if short else f"The {sector} sector"
    return place or "the register"


def amount(value: Decimal | None) -> str:
    """A penalty amount with thousands separators."""
    return "" if value is None else f"{value:,.2f}"
