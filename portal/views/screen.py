"""The /screen pages: upload a list of names, follow its progress, read and download it."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from portal.auth import limiter
from portal.errors import PortalError
from portal.services.screen_jobs import (
    MAX_BYTES,
    MAX_ROWS,
    job_results,
    job_status,
    read_names,
    results_csv,
    start_job,
)
from portal.wiring import get_db, get_index

bp = Blueprint("screen", __name__, url_prefix="/screen")
SHOWN = 200
UPLOAD_LIMIT = "20 per hour"


def upload_limit() -> str:
    """Lists per address per hour (PORTAL_SCREEN_LIMIT): each screens up to 10,000 names."""
    return str(current_app.config.get("SCREEN_LIMIT") or UPLOAD_LIMIT)


@bp.get("")
def index() -> str:
    """The upload form."""
    return render_template("screen/index.html", max_rows=MAX_ROWS, max_mb=MAX_BYTES // 2**20)


@bp.post("")
@limiter.limit(upload_limit)
def upload() -> ResponseReturnValue:
    """Check the list whole, start screening it, and go to its page."""
    try:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise PortalError("Choose a CSV or Excel (.xlsx) file with a column of names.")
        queries, blank = read_names(upload.read(MAX_BYTES + 1), upload.filename)
    except RequestEntityTooLarge:
        error = f"The list is larger than {MAX_BYTES // 2**20} MB."
        return _form_error(error)
    except PortalError as exc:
        return _form_error(exc.message)
    data_dir = current_app.config["DATA_DIR"]
    job_id = start_job(data_dir, get_db(), get_index(), queries, upload.filename)
    return redirect(url_for("screen.job", job_id=job_id, blank=blank or None), code=303)


def _form_error(message: str) -> tuple[str, int]:
    """The form again, with what was wrong."""
    page = render_template(
        "screen/index.html", error=message, max_rows=MAX_ROWS, max_mb=MAX_BYTES // 2**20
    )
    return page, 400


@bp.get("/<job_id>")
def job(job_id: str) -> str:
    """A screening's progress while it runs (htmx polls the partial), its answers once done."""
    data_dir = current_app.config["DATA_DIR"]
    status = job_status(data_dir, job_id)
    rows = []
    if status["state"] == "done":
        for row in job_results(data_dir, job_id):
            if row["verdict"] in ("match", "possible match") and len(rows) < SHOWN:
                rows.append(row)
    template = "screen/_progress.html" if request.htmx else "screen/job.html"
    return render_template(
        template, job_id=job_id, status=status, rows=rows, shown=SHOWN,
        blank=request.args.get("blank", type=int) or 0,
    )  # fmt: skip


@bp.get("/<job_id>.csv")
def download(job_id: str) -> Response:
    """Every name with its verdict, best candidate and measures in force, as CSV."""
    data_dir = current_app.config["DATA_DIR"]
    status = job_status(data_dir, job_id)
    name = f"screening-{status['date']}-{job_id[:8]}.csv"
    response = Response(results_csv(data_dir, job_id), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
