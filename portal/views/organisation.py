"""Representatives: registering with a claim, replying, appealing, asking for corrections."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from portal.auth import current_actor, role_required
from portal.errors import PortalError, ValidationFailed
from portal.models import Role
from portal.services.forms.due_process import (
    ask_correction,
    organisation_desk,
    register,
    representative_action,
)
from portal.wiring import get_db

bp = Blueprint("organisation", __name__, url_prefix="/workspace")


def _flash_failure(exc: PortalError) -> None:
    """Show a refusal with the fields it names."""
    details = exc.details if isinstance(exc.details, dict) else {}
    flash(" ".join([exc.message, *(f"{k}: {v}." for k, v in details.items())]), "error")


@bp.route("/register", methods=["GET", "POST"])
def register_page() -> ResponseReturnValue:
    """Open an account to represent an organisation; an admin verifies the claim."""
    if request.method == "GET":
        return render_template("workspace/register.html", form={}, errors={})
    try:
        register(get_db(), request.form)
    except ValidationFailed as exc:
        page = render_template(
            "workspace/register.html",
            form=request.form,
            errors=exc.details or {},
            error=exc.message,
        )
        return page, 422
    except PortalError as exc:
        page = render_template(
            "workspace/register.html", form=request.form, errors={}, error=exc.message
        )
        return page, exc.status
    flash("Your claim was sent. You can sign in to follow it.", "success")
    return redirect(url_for("workspace.sign_in"))


@bp.get("/organisation")
@role_required(Role.REPRESENTATIVE)
def index() -> ResponseReturnValue:
    """The claim's state, or the entity's records with reply and appeal forms."""
    with get_db().session() as session:
        desk = organisation_desk(session, current_actor())
    return render_template("workspace/organisation.html", desk=desk)


@bp.post("/organisation/records/<ref>/<action>")
@role_required(Role.REPRESENTATIVE)
def act(ref: str, action: str) -> ResponseReturnValue:
    """Reply to or appeal a finding."""
    try:
        representative_action(get_db(), current_actor(), ref, action, request.form)
        flash(
            "Your reply is published." if action == "reply" else "Your appeal is filed.", "success"
        )
    except PortalError as exc:
        if exc.status == 403:
            raise
        _flash_failure(exc)
    return redirect(url_for("organisation.index"))


@bp.post("/organisation/corrections")
@role_required(Role.REPRESENTATIVE)
def correction() -> ResponseReturnValue:
    """Ask for a correction of the organisation's details."""
    try:
        ask_correction(get_db(), current_actor(), request.form)
        flash("Your request was sent to the register's administrators.", "success")
    except PortalError as exc:
        if exc.status == 403:
            raise
        _flash_failure(exc)
    return redirect(url_for("organisation.index"))
