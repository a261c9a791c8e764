"""What an entity's report shows, read from the database in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

import scoring
from portal.models import Appeal, Entity, Record, Response
from portal.reports.issues import entity_seq
from portal.services.fields import jurisdiction_name
from portal.services.history import score_series
from portal.services.public import EntityPage, entity_page, entity_view

HISTORY_YEARS = 5
KIND_NAMES = {
    "business": "Business",
    "social_organisation": "Social organisation",
    "government_body": "Government body",
    "official": "Public official",
}


@dataclass
class RecordRow:
    """One record as the report lists it, with the entity's replies and any appeal."""

    record: Record
    agency: str
    state: str
    counts_until: date | None
    responses: list[Response] = field(default_factory=list)
    appeal: Appeal | None = None


@dataclass
class EntityReport:
    """Everything the entity report prints."""

    page: EntityPage
    kind_label: str
    jurisdiction: str
    seq: int
    rulebook: scoring.Rulebook
    history: list[tuple[date, float]]
    current: list[RecordRow]
    ended: list[RecordRow]
    omitted: int

    @property
    def entity(self) -> Entity:
        """The entity the report is about."""
        return self.page.view.entity


def report_subject(session: Session, slug: str) -> tuple[Entity, int]:
    """The entity a report is about and the newest change-log seq about it.

    Raises as the entity page does: NotFound for an unknown slug or an official out of
    public view, Moved for a merged entity (the app redirects to the surviving one).
    """
    entity = entity_view(session, slug).entity
    return entity, entity_seq(session, entity.id or 0)


def month_starts(today: date, years: int = HISTORY_YEARS) -> list[date]:
    """The first day of each month over the last `years` years, then today."""
    days = []
    year, month = today.year - years, today.month
    while (year, month) <= (today.year, today.month):
        days.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [*days[1:], today] if days[-1] != today else days[1:]


def score_history(session: Session, entity: Entity, today: date) -> list[tuple[date, float]]:
    """Monthly scores over five years, from one read of the change log."""
    days = month_starts(today)
    return [
        (day, s.value) for day, s in zip(days, score_series(session, entity, days), strict=True)
    ]


def _rows(session: Session, page: EntityPage) -> list[RecordRow]:
    """Every scored record with its state, the replies the page read, and its latest appeal."""
    by_ref = {c.record: c for c in page.score.contributions}
    ids = [r.id for r in page.records]
    appeals: dict[int, Appeal] = {}
    for appeal in session.exec(
        select(Appeal).where(col(Appeal.record_id).in_(ids)).order_by(col(Appeal.id))
    ).all():
        appeals[appeal.record_id] = appeal
    rows = []
    for record in page.records:
        part = by_ref.get(record.ref)
        rows.append(
            RecordRow(
                record=record,
                agency=page.agency_names.get(record.agency_id, ""),
                state=part.state if part else "",
                counts_until=part.counts_until if part else None,
                responses=page.responses.get(record.id or 0, []),
                appeal=appeals.get(record.id or 0),
            )
        )
    return rows


def entity_report(session: Session, slug: str, today: date, max_records: int) -> EntityReport:
    """Read an entity's report; list at most `max_records` records (the newest first)."""
    page = entity_page(session, slug)
    entity = page.view.entity
    rows = _rows(session, page)
    current = [r for r in rows if r.state in ("counting", "under_appeal")]
    ended = [r for r in rows if r.state not in ("counting", "under_appeal")]
    kept_current = current[:max_records]
    kept_ended = ended[: max(0, max_records - len(kept_current))]
    rulebook = scoring.default_rulebooks().get(page.score.rulebook_id, page.score.rulebook_version)
    return EntityReport(
        page=page,
        kind_label=KIND_NAMES.get(str(entity.kind), str(entity.kind)),
        jurisdiction=jurisdiction_name(entity.jurisdiction_code) or entity.jurisdiction_code,
        seq=entity_seq(session, entity.id or 0),
        rulebook=rulebook,
        history=score_history(session, entity, today) if page.in_view else [],
        current=kept_current,
        ended=kept_ended,
        omitted=len(rows) - len(kept_current) - len(kept_ended),
    )
