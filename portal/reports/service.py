"""Producing a report: serve the cached copy, or read, render (bounded), record and cache it.

Services take the database, the template environment, the cache and a
ReportRequest; they never touch the request or the app. The one write is the
service `issue_report`, in its own short transaction after the rendering.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlmodel import Session

from portal.db import Database
from portal.models import utcnow
from portal.reports.bounded import render_in_child
from portal.reports.cache import CacheKey, ReportCache
from portal.reports.issues import issue_by_id, new_report_id, sha256_of
from portal.reports.pdf import PdfJob, RenderResult, write_pdf
from portal.reports.qr import qr_svg
from portal.reports.settings import VARIANTS, ReportSettings
from portal.services.access import Actor
from portal.services.report_issues import IssueFacts, issue_report

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportRequest:
    """Which rendering is asked for, and by whom: the variant, the public address, the day."""

    variant: str
    base_url: str
    today: date
    actor: Actor
    settings: ReportSettings = field(default_factory=ReportSettings)


@dataclass(frozen=True)
class Subject:
    """What a report is about, as the cache and the issue record name it."""

    name: str
    kind: str
    entity_id: int | None
    seq: int
    filename: str


@dataclass
class Content:
    """A report's template, its context and any files to attach."""

    template: str
    context: dict[str, Any]
    attachments: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ServedReport:
    """A report ready to send: from the cache (a path) or freshly rendered (bytes)."""

    report_id: str
    sha256: str
    filename: str
    path: Path | None = None
    data: bytes | None = None
    rendered: bool = False

    def read(self) -> bytes:
        """The PDF's bytes."""
        if self.data is not None:
            return self.data
        if self.path is None:
            raise ValueError("a served report has either bytes or a path")
        return self.path.read_bytes()


def render(job: PdfJob, settings: ReportSettings) -> RenderResult:
    """Render a job, in a bounded child process unless isolation is off."""
    if settings.isolate:
        result = render_in_child(job, settings.timeout_s, settings.memory_mb)
    else:
        result = write_pdf(job)
    for message in result.messages:
        log.warning("weasyprint: %s", message)
    for url in result.refused:
        log.error("report rendering asked for %s; refused", url[:200])
    log.info(
        "rendered a %d-byte report in %.2f s, peak memory %d MB",
        len(result.pdf),
        result.seconds,
        result.peak_rss_kb // 1024,
    )
    return result


def _cached(
    session: Session, cache: ReportCache, key: CacheKey, filename: str
) -> ServedReport | None:
    """The cached report for a key, if the register still knows its issue."""
    hit = cache.get(key)
    if hit is None:
        return None
    issue = issue_by_id(session, hit.report_id)
    if issue is None or issue.sha256 != hit.sha256:
        return None
    return ServedReport(hit.report_id, hit.sha256, filename, path=hit.path)


def produce(
    db: Database,
    env: Environment,
    cache: ReportCache,
    request: ReportRequest,
    find: Callable[[Session], Subject],
    read: Callable[[Session], Content],
) -> ServedReport:
    """Serve a subject's report from the cache, or make, record and cache a new one."""
    with db.session() as session:
        subject = find(session)
        key = CacheKey(subject.name, subject.seq, request.today, request.variant, request.base_url)
        hit = _cached(session, cache, key, subject.filename)
        if hit is not None:
            return hit
        content = read(session)
    facts = IssueFacts(
        new_report_id(),
        subject.kind,
        subject.entity_id,
        subject.seq,
        utcnow().replace(microsecond=0),
    )
    verify_url = f"{request.base_url}verify/{facts.report_id}"
    context = {
        **content.context,
        "issue": facts,
        "verify_url": verify_url,
        "qr": qr_svg(verify_url),
        "as_of": request.today,
        "base_url": request.base_url,
    }
    html = env.get_template(content.template).render(context)
    pdf = render(PdfJob(html, VARIANTS[request.variant], content.attachments), request.settings).pdf
    sha256 = sha256_of(pdf)
    with db.writing() as session:
        issue_report(session, request.actor, facts, sha256)
    stored = cache.put(key, facts.report_id, pdf, sha256)
    path = stored.path if stored else None
    return ServedReport(facts.report_id, sha256, subject.filename, path, pdf, rendered=True)
