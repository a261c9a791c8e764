"""Administration pages: accounts, agencies, jurisdictions, entity merges."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from portal.auth import current_actor, role_required
from portal.errors import PortalError
from portal.models import Role
from portal.services.forms.admin import admin_action_safe, admin_overview
from portal.services.forms.due_process import admin_decision
from portal.wiring import get_db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    """Everything an administrator manages, on one page."""
    with get_db().session() as session:
        context = admin_overview(session, current_actor())
    return render_template("admin/index.html", **context)


@bp.post("/decide/<kind>/<int:item_id>")
@role_required(Role.ADMIN)
def decide(kind: str, item_id: int) -> ResponseReturnValue:
    """Verify or reject a claim, apply or decline a correction request."""
    if kind not in ("claim", "request"):
        abort(404)
    try:
        flash(admin_decision(get_db(), current_actor(), kind, item_id, request.form), "success")
    except PortalError as exc:
        if exc.status == 403:
            raise
        flash(exc.message, "error")
    return redirect(url_for("admin.index"))


@bp.post("/<action>")
@role_required(Role.ADMIN)
def act(action: str) -> ResponseReturnValue:
    """One admin form; a refusal comes back as a message."""
    try:
        flash(admin_action_safe(get_db(), current_actor(), action, request.form), "success")
    except PortalError as exc:
        if exc.status == 403:
            raise
        details = (
            "; ".join(f"{k}: {v}" for k, v in (exc.details or {}).items())
            if isinstance(exc.details, dict)
            else ""
        )
        flash(f"{exc.message} {details}".strip(), "error")
    return redirect(url_for("admin.index"))
