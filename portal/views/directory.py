"""Agency and jurisdiction pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.services.directory import agency_page, jurisdiction_page
from portal.services.search.labels import band_labels
from portal.wiring import get_db

bp = Blueprint("directory", __name__)


@bp.get("/agencies/<slug>")
def agency(slug: str) -> str:
    """What an agency publishes, its recent findings and its appeal statistics."""
    with get_db().session() as session:
        page = agency_page(session, slug)
    return render_template("directory/agency.html", page=page)


@bp.get("/jurisdictions/<code>")
def jurisdiction(code: str) -> str:
    """A jurisdiction's rulebook, agencies, bands and recent findings."""
    with get_db().session() as session:
        page = jurisdiction_page(session, code)
    return render_template("directory/jurisdiction.html", page=page, band_labels=band_labels())
