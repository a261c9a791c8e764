"""Summary reports: an agency over a period, and a jurisdiction or sector of the register."""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment
from sqlmodel import Session, select

from portal.db import Database
from portal.errors import NotFound, ValidationFailed
from portal.models import Agency
from portal.reports.cache import ReportCache
from portal.reports.charts import bar_chart
from portal.reports.service import Content, ReportRequest, ServedReport, Subject, produce
from portal.reports.summary_data import agency_summary, amount, period, register_summary
from portal.services.search.documents import head_seq

_CODE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


def agency_context(
    session: Session, slug: str, request: ReportRequest, start: Any, end: Any
) -> dict[str, Any]:
    """The template context of an agency report, charts drawn."""
    data = agency_summary(session, slug, start, end, request.settings.max_records)
    name = data.agency.name
    return {
        "data": data,
        "amount": amount,
        "category_chart": bar_chart(data.by_category, f"Findings published by {name}, by category"),
        "month_chart": bar_chart(data.by_month, f"Findings published by {name}, by month"),
        "doc_title": f"{name}: publications from {start} to {end}",
        "doc_description": f"Findings published by {name}, with appeals and their outcomes.",
        "doc_keywords": f"{name}, {data.agency.jurisdiction_code or 'international'}",
    }


def agency_pdf(
    db: Database,
    env: Environment,
    cache: ReportCache,
    request: ReportRequest,
    slug: str,
    start_text: str | None,
    end_text: str | None,
) -> ServedReport:
    """An agency's summary over a period; cached until the register changes."""
    start, end = period(start_text, end_text, request.today)

    def find(session: Session) -> Subject:
        """The agency, and the head of the change log."""
        agency = session.exec(select(Agency).where(Agency.slug == slug)).first()
        if agency is None:
            raise NotFound(f"No agency has the slug {slug!r}.")
        name = f"agency-{agency.id}-{start}-{end}"
        filename = f"{agency.slug}-{start}-to-{end}-report.pdf"
        return Subject(name, f"agency:{agency.id}", None, head_seq(session), filename)

    def read(session: Session) -> Content:
        """Everything the report prints."""
        return Content("reports/agency.html", agency_context(session, slug, request, start, end))

    return produce(db, env, cache, request, find, read)


def _subject(code: str | None, sector: str | None) -> tuple[str, str, str]:
    """Cache name, issue kind and file name of a register summary; ValidationFailed if bad."""
    if code and not _CODE.match(code):
        raise ValidationFailed("A jurisdiction is an ISO 3166 code such as GB or GB-WLS.")
    if sector is not None and not 0 < len(sector.strip()) <= 100:
        raise ValidationFailed("A sector name has 1 to 100 characters.")
    slug = re.sub(r"[^a-z0-9]+", "-", (sector or "").lower()).strip("-")
    kind = f"sector:{sector}" if sector else f"jurisdiction:{code}"
    filename = "-".join(p for p in (code and code.lower(), slug, "report.pdf") if p)
    return (
        f"register-{code or 'all'}-{slug or 'all'}",
        kind if len(kind) <= 30 else "sector",
        filename,
    )


def register_pdf(
    db: Database,
    env: Environment,
    cache: ReportCache,
    request: ReportRequest,
    code: str | None,
    sector: str | None,
) -> ServedReport:
    """A jurisdiction's or sector's summary; cached until the register changes."""
    name, kind, filename = _subject(code, sector)

    def find(session: Session) -> Subject:
        """The head of the change log."""
        return Subject(name, kind, None, head_seq(session), filename)

    def read(session: Session) -> Content:
        """Everything the report prints."""
        data = register_summary(session, code, sector)
        context = {
            "data": data,
            "amount": amount,
            "band_chart": bar_chart(data.by_band, f"Entities of {data.scope} by score band"),
            "category_chart": bar_chart(
                data.by_category, f"Most frequent categories in {data.scope}"
            ),
            "doc_title": f"{data.title}: summary report",
            "doc_description": f"Entities of {data.scope}: bands, penalties and categories.",
            "doc_keywords": ", ".join(p for p in (code, sector) if p),
        }
        return Content("reports/register.html", context)

    return produce(db, env, cache, request, find, read)
