"""The home page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from portal.services.home import cached_counts, latest_findings
from portal.wiring import get_db

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """The home page: search, the register's counts and the newest findings."""
    cache = current_app.extensions.setdefault("portal.home_counts", {})
    with get_db().session() as session:
        context = cached_counts(session, cache)
        latest = latest_findings(session)
    return render_template("main/index.html", latest=latest, **context)
