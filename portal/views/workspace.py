"""Signing in and out, and the regulators' workspace."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from portal.auth import SignedInUser, current_actor, limiter, role_required, safe_next
from portal.errors import PortalError, ValidationFailed
from portal.models import EntityKind, Role
from portal.services import accounts, notifications
from portal.services.forms.due_process import record_appeal, regulator_action
from portal.services.forms.workspace import (
    agency_desk,
    agency_of,
    own_record,
    save_draft,
    take_step,
)
from portal.wiring import get_db

bp = Blueprint("workspace", __name__, url_prefix="/workspace")
HOME_BY_ROLE = {
    Role.REGULATOR: "workspace.agency",
    Role.ADMIN: "admin.index",
    Role.REPRESENTATIVE: "organisation.index",
}


def demo_allowed() -> bool:
    """Demo accounts sign in only on a register made by `portal demo`."""
    return (Path(current_app.config["DATA_DIR"]) / "DEMO").exists()


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def sign_in() -> ResponseReturnValue:
    """Sign in with email, password and, where required, an authenticator code."""
    target = safe_next(request.values.get("next"), url_for("workspace.home"))
    if request.method == "GET":
        return render_template("workspace/sign_in.html", next=target, needs_totp=False)
    form = request.form
    result = accounts.sign_in(
        get_db(), form.get("email", ""), form.get("password", ""), form.get("totp"), demo_allowed()
    )
    if result.user is None:
        page = render_template(
            "workspace/sign_in.html",
            next=target,
            error=result.message,
            email=form.get("email", ""),
            needs_totp=result.needs_totp,
        )
        return page, 401
    login_user(SignedInUser(result.user))
    return redirect(target)


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """Sign out here and end every other session of the account."""
    if current_user.is_authenticated:
        accounts.sign_out(get_db(), current_user.user_id)
        logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("main.index"))


@bp.get("/")
@role_required(Role.ADMIN, Role.REGULATOR, Role.REPRESENTATIVE)
def home() -> ResponseReturnValue:
    """Each role's workspace."""
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))


@bp.get("/inbox")
@role_required(Role.ADMIN, Role.REGULATOR, Role.REPRESENTATIVE)
def inbox() -> ResponseReturnValue:
    """Every signed-in user's notifications."""
    with get_db().session() as session:
        notes = notifications.inbox(session, current_user.user_id)
    return render_template("workspace/inbox.html", notes=notes)


@bp.get("/agency")
@role_required(Role.REGULATOR)
def agency() -> ResponseReturnValue:
    """The agency's drafts, submissions awaiting approval, and recent publications."""
    with get_db().session() as session:
        desk = agency_desk(session, current_actor())
    return render_template("workspace/agency.html", desk=desk, user_id=current_user.user_id)


@bp.route("/records/new", methods=["GET", "POST"])
@role_required(Role.REGULATOR)
def new_record() -> ResponseReturnValue:
    """A new draft finding; the form keeps what was typed when something is wrong."""
    with get_db().session() as session:
        agency = agency_of(session, current_actor())
    context = {"agency": agency, "kinds": list(EntityKind), "form": request.form, "errors": {}}
    if request.method == "GET":
        return render_template("workspace/record_form.html", **context)
    try:
        ref = save_draft(get_db(), current_actor(), request.form)
    except ValidationFailed as exc:
        context["errors"] = exc.details or {}
        return render_template("workspace/record_form.html", error=exc.message, **context), 422
    flash(f"Draft {ref} saved.", "success")
    return redirect(url_for("workspace.record", ref=ref))


@bp.get("/records/<ref>")
@role_required(Role.REGULATOR)
def record(ref: str) -> ResponseReturnValue:
    """One of the agency's records with the steps that can be taken next."""
    with get_db().session() as session:
        found = own_record(session, current_actor(), ref)
        agency = agency_of(session, current_actor())
        appeal, responses = record_appeal(session, found)
    return render_template(
        "workspace/record.html",
        record=found,
        agency=agency,
        user_id=current_user.user_id,
        errors={},
        appeal=appeal,
        responses=responses,
    )


@bp.post("/records/<ref>/<action>")
@role_required(Role.REGULATOR)
def act(ref: str, action: str) -> ResponseReturnValue:
    """Take one workflow step; refusals come back as a message on the record's page."""
    try:
        if action in ("decide", "hide"):
            regulator_action(get_db(), current_actor(), ref, action, request.form)
        else:
            take_step(get_db(), current_actor(), ref, action, request.form)
    except ValidationFailed as exc:
        flash(
            f"{exc.message} " + "; ".join(f"{k}: {v}" for k, v in (exc.details or {}).items()),
            "error",
        )
        return redirect(url_for("workspace.record", ref=ref))
    except PortalError as exc:
        if exc.status == 403:
            raise
        flash(exc.message, "error")
        return redirect(url_for("workspace.record", ref=ref))
    flash(f"Record {ref}: {action} done.", "success")
    return redirect(url_for("workspace.record", ref=ref))
