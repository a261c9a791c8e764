"""The entity report: one entity's score, its explanation, history and records."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from jinja2 import Environment
from markupsafe import Markup
from sqlmodel import Session

from portal.db import Database
from portal.reports.cache import ReportCache
from portal.reports.charts import Guide, line_chart
from portal.reports.entity_data import EntityReport, entity_report, report_subject
from portal.reports.service import Content, ReportRequest, ServedReport, Subject, produce
from scoring import Rulebook


def history_view(
    name: str, history: list[tuple[date, float]], rulebook: Rulebook
) -> tuple[Markup, list[tuple[date, float]]]:
    """The five-year score chart (SVG) and its yearly data table, for the page and the PDF."""
    guides = [
        Guide(b.min, f"{b.code} {b.min:g}") for b in rulebook.bands if 0 < b.min < rulebook.ceiling
    ]
    chart = line_chart(
        history,
        f"Score of {name} at the start of each month over five years",
        rulebook.ceiling,
        guides,
    )
    years = [(d, v) for d, v in history if d.month == 1 and d.day == 1]
    return chart, [*years, history[-1]] if history else []


def entity_context(report: EntityReport) -> dict[str, Any]:
    """The template context of an entity report, charts drawn."""
    entity, score = report.entity, report.page.score
    chart, years = history_view(entity.name, report.history, report.rulebook)
    return {
        "report": report,
        "titles": {row.record.ref: row.record.title for row in [*report.current, *report.ended]},
        "history_chart": chart,
        "history_years": years,
        "doc_title": f"{entity.name}: accountability report",
        "doc_description": f"Score {score.value:.2f}, band {score.band} ({score.band_label}), "
        f"explained record by record.",
        "doc_keywords": f"{entity.name}, {entity.jurisdiction_code}",
    }


def score_attachment(report: EntityReport) -> tuple[str, str, str]:
    """The explained score as JSON, attached so anyone can recompute it."""
    entity = report.entity
    data = {
        "entity": {
            "slug": entity.slug,
            "name": entity.name,
            "kind": str(entity.kind),
            "jurisdiction": entity.jurisdiction_code,
        },
        "change_log_seq": report.seq,
        "score": report.page.score.to_dict(),
    }
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    return ("score.json", text, "The explained score in the register's API format")


def entity_pdf(
    db: Database, env: Environment, cache: ReportCache, request: ReportRequest, slug: str
) -> ServedReport:
    """One entity's report, from the cache when its data has not changed today."""

    def find(session: Session) -> Subject:
        """The entity and the newest change about it."""
        entity, seq = report_subject(session, slug)
        return Subject(f"entity-{entity.id}", "entity", entity.id, seq, f"{entity.slug}-report.pdf")

    def read(session: Session) -> Content:
        """Everything the report prints."""
        report = entity_report(session, slug, request.today, request.settings.max_records)
        return Content("reports/entity.html", entity_context(report), [score_attachment(report)])

    return produce(db, env, cache, request, find, read)
