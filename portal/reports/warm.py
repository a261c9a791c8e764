"""Paying a worker's one-time report costs at its start, not on its first report.

A fresh worker's first report used to take three times as long as the next ones:
it started the render server (a Python process importing weasyprint, loading the
fonts and parsing the print stylesheet), compiled the report templates and their
macros, and ran each of the report's queries for the first time. A serving worker
does all of that before it takes a request: `warm_reports` builds the report of
one entity with public records exactly as a request would (nothing is issued,
stored or cached) and renders it through the render server, which starts
on the way. Tests and command-line tools never call it, so they start as before.
"""

from __future__ import annotations

import logging
import time

from flask import Flask
from sqlmodel import col, select

from portal.db import Database
from portal.models import PUBLIC_STATUSES, Entity, Record, utcnow
from portal.reports.bounded import render_in_child
from portal.reports.entity import entity_context, score_attachment
from portal.reports.entity_data import entity_report
from portal.reports.pdf import WARM_UP_HTML, PdfJob
from portal.reports.qr import qr_svg
from portal.reports.settings import ReportSettings
from portal.services.report_issues import IssueFacts

log = logging.getLogger(__name__)


def warm_reports(app: Flask, db: Database) -> float:
    """Build and render one report through the render server and the templates; the seconds."""
    started = time.perf_counter()
    settings = ReportSettings.from_config(app.config)
    try:
        html, attachments = sample_report(app, db, settings)
        render_in_child(
            PdfJob(html, attachments=attachments), settings.timeout_s, settings.memory_mb
        )
    except Exception:  # a cold worker still serves reports, only its first one slower
        log.exception("report warm-up at worker start failed")
    return time.perf_counter() - started


def sample_report(
    app: Flask, db: Database, settings: ReportSettings
) -> tuple[str, list[tuple[str, str, str]]]:
    """The HTML and attachments of one entity's report, or a fixed page in an empty register.

    Any entity with a public record will do, found by one indexed row (a count over
    the register would cost seconds at a million entities, at every worker start).
    """
    today = utcnow().date()
    with db.session() as session:
        slug = session.exec(
            select(Entity.slug)
            .join(Record, col(Record.entity_id) == Entity.id)
            .where(col(Record.status).in_(PUBLIC_STATUSES), col(Entity.merged_into_id).is_(None))
            .limit(1)
        ).first()
        if slug is None:
            return WARM_UP_HTML, []
        report = entity_report(session, slug, today, settings.max_records)
    facts = IssueFacts("WARM-WARM-WARM-WARM", "entity", report.entity.id, report.seq, utcnow())
    base_url = settings.public_url or "http://localhost/"
    verify_url = f"{base_url}verify/{facts.report_id}"
    context = {
        **entity_context(report),
        "issue": facts,
        "verify_url": verify_url,
        "qr": qr_svg(verify_url),
        "as_of": today,
        "base_url": base_url,
    }
    with app.app_context():
        html = app.jinja_env.get_template("reports/entity.html").render(context)
    return html, [score_attachment(report)]
