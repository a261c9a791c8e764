"""Record pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.services.record_page import record_page
from portal.wiring import get_db

bp = Blueprint("records", __name__, url_prefix="/records")


@bp.get("/<ref>")
def detail(ref: str) -> str:
    """One finding with its history, the entity's reply and any appeal."""
    with get_db().session() as session:
        page = record_page(session, ref)
    return render_template("records/detail.html", page=page, record=page.record)
