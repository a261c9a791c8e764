"""Reads and form handling for the admin pages (each write one transaction)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session, col, select

from portal.db import Database
from portal.errors import NotFound, ValidationFailed
from portal.models import Agency, Jurisdiction, Role, User
from portal.services import fields
from portal.services.access import Actor, may_manage_register, require
from portal.services.accounts import change_role, create_user, set_active
from portal.services.admin import entities_by_slugs, merge_entities, update_agency
from portal.services.due_process import pending
from portal.services.entities import ensure_jurisdiction
from portal.services.register import create_agency


def admin_overview(session: Session, actor: Actor) -> dict[str, object]:
    """Users, agencies and jurisdictions for the admin page."""
    require(may_manage_register(actor), "administer the register")
    claims, requests = pending(session)
    return {
        "claims": claims,
        "requests": requests,
        "users": session.exec(select(User).order_by(col(User.email))).all(),
        "agencies": session.exec(select(Agency).order_by(col(Agency.name))).all(),
        "jurisdictions": session.exec(select(Jurisdiction).order_by(col(Jurisdiction.code))).all(),
        "roles": list(Role),
    }


def _categories(text: str | None) -> list[str]:
    """Categories typed as a comma-separated list."""
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def admin_action(db: Database, actor: Actor, action: str, form: Mapping[str, str]) -> str:
    """Run one admin form in one transaction; return a message saying what was done."""
    with db.writing() as session:
        if action == "create-user":
            role = fields.choice(form.get("role"), Role)
            user = create_user(
                session,
                actor,
                form.get("email", ""),
                form.get("password", ""),
                Role(role),
                form.get("agency") or None,
                form.get("entity") or None,
            )
            return f"Account {user.email} created."
        if action in ("disable-user", "enable-user"):
            user = session.get(User, int(form.get("user_id") or 0))
            if user is None:
                raise NotFound("No such account.")
            set_active(session, actor, user, action == "enable-user")
            return f"Account {user.email} {'enabled' if user.active else 'disabled'}."
        if action == "set-role":
            user = session.get(User, int(form.get("user_id") or 0))
            if user is None:
                raise NotFound("No such account.")
            change_role(
                session,
                actor,
                user,
                Role(fields.choice(form.get("role"), Role)),
                form.get("agency") or None,
                form.get("entity") or None,
            )
            return f"Account {user.email} is now {user.role}."
        if action == "create-agency":
            agency = create_agency(
                session,
                actor,
                form.get("slug", "").strip(),
                form.get("name", "").strip(),
                fields.jurisdiction_code(form.get("jurisdiction")),
                _categories(form.get("categories")),
                bool(form.get("requires_second_approval")),
            )
            return f"Agency {agency.name} created."
        if action == "update-agency":
            agency = session.exec(select(Agency).where(Agency.slug == form.get("slug"))).first()
            if agency is None:
                raise NotFound("No such agency.")
            update_agency(
                session,
                actor,
                agency,
                _categories(form.get("categories")),
                bool(form.get("requires_second_approval")),
                bool(form.get("requires_totp")),
            )
            return f"Agency {agency.name} updated."
        if action == "add-jurisdiction":
            code = fields.jurisdiction_code(form.get("code"))
            require(may_manage_register(actor), "add jurisdictions")
            return (
                f"Jurisdiction {ensure_jurisdiction(session, actor, code).name} is in the register."
            )
        if action == "merge":
            source, target = entities_by_slugs(
                session, [form.get("source", ""), form.get("target", "")]
            )
            merge_entities(session, actor, source, target)
            return f"{source.name} was merged into {target.name}."
    raise NotFound(f"Unknown action {action!r}.")


def admin_action_safe(db: Database, actor: Actor, action: str, form: Mapping[str, str]) -> str:
    """admin_action with field errors (from parsers) reported as validation failures."""
    try:
        return admin_action(db, actor, action, form)
    except fields.FieldError as exc:
        raise ValidationFailed(f"Not valid: {exc}.") from None
