"""PDF reports (entity, agency, jurisdiction, sector) and the pages that verify them."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, send_file
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from portal.auth import current_actor
from portal.errors import ValidationFailed
from portal.models import utcnow
from portal.reports import summaries
from portal.reports.cache import ReportCache
from portal.reports.entity import entity_pdf
from portal.reports.issues import find_verdict, normalise_report_id, verdict_for_file
from portal.reports.screening import screening_pdf
from portal.reports.service import ReportRequest, ServedReport
from portal.reports.settings import VARIANTS, ReportSettings
from portal.wiring import get_db

bp = Blueprint("reports", __name__)


def _settings() -> ReportSettings:
    """This app's report settings."""
    return ReportSettings.from_config(current_app.config)


def _report_request() -> ReportRequest:
    """The variant, public address and day a report request asks for."""
    variant = request.args.get("variant", "ua")
    if variant not in VARIANTS:
        raise ValidationFailed("variant must be 'ua' (tagged PDF/UA) or 'pdfa' (PDF/A-3b).")
    settings = _settings()
    base_url = (settings.public_url or request.host_url).rstrip("/") + "/"
    return ReportRequest(variant, base_url, utcnow().date(), current_actor(), settings)


def _cache() -> ReportCache:
    """The report cache in the data directory."""
    return ReportCache(Path(current_app.config["DATA_DIR"]) / "reports")


def _send(make: Callable[..., ServedReport], *args: Any) -> ResponseReturnValue:
    """Produce a report and send it with its ETag (a matching If-None-Match gets a 304)."""
    served = make(get_db(), current_app.jinja_env, _cache(), _report_request(), *args)
    if served.sha256 in request.if_none_match:
        response = current_app.response_class(status=304)
        response.set_etag(served.sha256)
        response.headers["Cache-Control"] = "no-cache"
        return response
    response = send_file(
        io.BytesIO(served.read()),
        mimetype="application/pdf",
        download_name=served.filename,
        etag=served.sha256,
        conditional=True,
        max_age=0,
    )
    response.headers["X-Report-Id"] = served.report_id
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/entities/<slug>/report.pdf")
def entity(slug: str) -> ResponseReturnValue:
    """One entity's report: cover, explanation, history, records, methodology."""
    return _send(entity_pdf, slug)


@bp.get("/agencies/<slug>/report.pdf")
def agency(slug: str) -> ResponseReturnValue:
    """An agency's publications, appeals and outcomes over ?from=&to= (default: a year)."""
    return _send(summaries.agency_pdf, slug, request.args.get("from"), request.args.get("to"))


@bp.get("/jurisdictions/<code>/report.pdf")
def jurisdiction(code: str) -> ResponseReturnValue:
    """A jurisdiction (with its subdivisions): entities by band, penalties, categories."""
    return _send(summaries.register_pdf, code.upper(), None)


@bp.get("/reports/sector/<sector>.pdf")
def sector(sector: str) -> ResponseReturnValue:
    """A sector, optionally within ?jurisdiction=: entities by band, penalties, categories."""
    code = (request.args.get("jurisdiction") or "").upper() or None
    return _send(summaries.register_pdf, code, sector)


@bp.get("/screen/<job_id>/report.pdf")
def screening(job_id: str) -> ResponseReturnValue:
    """A finished screening's report, verifiable like every report."""
    return _send(screening_pdf, current_app.config["DATA_DIR"], job_id)


@bp.get("/verify")
def verify() -> ResponseReturnValue:
    """The form to check a report by its id or by uploading the file."""
    typed = request.args.get("report_id")
    if typed:
        report_id = normalise_report_id(typed)
        if report_id:
            return redirect(f"/verify/{report_id}")
        return _verify_page(error=f"“{typed[:40]}” is not a report ID.", status=404)
    return _verify_page()


@bp.get("/verify/<report_id>")
def verified(report_id: str) -> ResponseReturnValue:
    """Whether a report id was issued by the register, and whether its data has changed."""
    clean = normalise_report_id(report_id)
    with get_db().session() as session:
        found = find_verdict(session, clean) if clean else None
    if found is None:
        message = "No report with this ID was issued by the register: the copy is not genuine."
        return _verify_page(error=message, status=404)
    return _verify_page(verdict=found)


@bp.post("/verify")
def check_file() -> ResponseReturnValue:
    """Check an uploaded PDF against the hashes of every issued report."""
    limit = _settings().upload_max_bytes
    too_big = _too_big(limit)
    request.max_content_length = limit + 64 * 1024
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        return _verify_page(error=too_big, status=413)
    if upload is None or not upload.filename:
        return _verify_page(error="Choose the PDF file to check.", status=400)
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        return _verify_page(error=too_big, status=413)
    with get_db().session() as session:
        found = verdict_for_file(session, data)
    if found is None:
        message = (
            "This file does not match any report issued by the register. It may have been "
            "altered, or it was not produced here."
        )
        return _verify_page(error=message, status=200)
    return _verify_page(verdict=found, uploaded=True)


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(_exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """A body over the app's own limit, refused before the view ran: say so plainly."""
    return _verify_page(error=_too_big(_settings().upload_max_bytes), status=413)


def _too_big(limit: int) -> str:
    """The message for an upload over the limit."""
    size = f"{limit / 1048576:.0f} MB" if limit >= 1048576 else f"{limit / 1024:.0f} KB"
    return f"The file is larger than {size}, the most this page accepts; no report is that large."


def _verify_page(status: int = 200, **context: Any) -> ResponseReturnValue:
    """Render the verify page with a verdict or an error."""
    return render_template(
        "reports/verify.html", limit=_settings().upload_max_bytes, **context
    ), status
