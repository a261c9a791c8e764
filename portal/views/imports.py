"""Bulk import from the regulators' workspace: upload, preview, then commit."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from portal.auth import current_actor, role_required
from portal.errors import PortalError
from portal.models import Role
from portal.services.forms.workspace import agency_of
from portal.services.imports.mapping import shipped_mappings
from portal.services.imports.read import DEFAULT_MAX_BYTES
from portal.services.imports.run import preview_import, run_import
from portal.services.imports.staging import discard, stage, staged
from portal.wiring import get_db

bp = Blueprint("imports", __name__, url_prefix="/workspace/imports")


def _options(form: dict[str, str], agency_slug: str) -> dict[str, object]:
    """Import options from the form: a shipped mapping (or our columns) and its parameters."""
    mapping = form.get("mapping") or None
    if mapping is not None and mapping not in shipped_mappings():
        raise PortalError("Choose one of the listed formats.", {"mapping": mapping[:50]})
    params = {"decided_on": form["decided_on"]} if form.get("decided_on") and mapping else None
    return {
        "mapping": mapping,
        "agency_slug": agency_slug,
        "params": params,
        "actor": current_actor(),
        "max_bytes": DEFAULT_MAX_BYTES,
    }


def _agency_slug() -> str:
    """The signed-in regulator's agency."""
    with get_db().session() as session:
        return agency_of(session, current_actor()).slug


@bp.get("")
@role_required(Role.REGULATOR)
def index() -> ResponseReturnValue:
    """The upload form."""
    return render_template("workspace/import.html", mappings=shipped_mappings(), report=None)


@bp.post("")
@role_required(Role.REGULATOR)
def preview() -> ResponseReturnValue:
    """Check every row of the uploaded file and show what would be imported."""
    upload = request.files.get("file")
    form = request.form.to_dict()
    try:
        if upload is None or not upload.filename:
            raise PortalError("Choose a file to upload.")
        data = upload.read(DEFAULT_MAX_BYTES + 1)
        token = stage(current_app.config["DATA_DIR"], data, DEFAULT_MAX_BYTES)
        report = preview_import(
            get_db(), data, filename=upload.filename, **_options(form, _agency_slug())
        )
    except PortalError as exc:
        flash(exc.message, "error")
        return redirect(url_for("imports.index"))
    return render_template(
        "workspace/import.html",
        mappings=shipped_mappings(),
        report=report,
        token=token if report.ok else None,
        form=form,
    )


@bp.post("/<token>")
@role_required(Role.REGULATOR)
def commit(token: str) -> ResponseReturnValue:
    """Import the previewed file: all rows or none."""
    form = request.form.to_dict()
    try:
        data = staged(current_app.config["DATA_DIR"], token)
        report = run_import(
            get_db(), data, filename=form.get("filename"), **_options(form, _agency_slug())
        )
    except PortalError as exc:
        flash(exc.message, "error")
        return redirect(url_for("imports.index"))
    if report.ok:
        discard(current_app.config["DATA_DIR"], token)
        flash(report.lines()[0], "success")
        return redirect(url_for("workspace.agency"))
    return render_template(
        "workspace/import.html", mappings=shipped_mappings(), report=report, token=None, form=form
    )
