"""The administrators' page of likely duplicate entities, with the evidence for each pair."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from portal.auth import current_actor, role_required
from portal.errors import PortalError
from portal.models import Role
from portal.services.duplicates import decide_pair, likely_duplicates
from portal.wiring import get_db

bp = Blueprint("duplicates", __name__, url_prefix="/admin/duplicates")


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    """Pairs that may be one entity: merge them, or say they are not the same."""
    with get_db().session() as session:
        pairs, total = likely_duplicates(session, current_actor())
    return render_template("admin/duplicates.html", pairs=pairs, total=total)


@bp.post("/decide")
@role_required(Role.ADMIN)
def decide() -> ResponseReturnValue:
    """Merge a pair or mark it not the same; back to the list with what happened."""
    try:
        flash(decide_pair(get_db(), current_actor(), request.form), "success")
    except PortalError as exc:
        if exc.status == 403:
            raise
        flash(exc.message, "error")
    return redirect(url_for("duplicates.index"))
