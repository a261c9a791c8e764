"""Sign-in sessions (Flask-Login), CSRF (Flask-WTF) and rate limits (Flask-Limiter).

A session names the user *and* their session version; signing out, changing the
password or disabling the account bumps the version, so every copy of an older
cookie stops working at once (Flask's signed cookies cannot be revoked otherwise).
"""

from __future__ import annotations

from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from portal.models import Role, User
from portal.services.access import Actor
from portal.services.accounts import actor_for
from portal.wiring import get_db

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], storage_uri="memory://")


class SignedInUser(UserMixin):  # type: ignore[misc]
    """What a request knows about its signed-in user."""

    def __init__(self, user: User) -> None:
        """Copy the fields the views and access checks use."""
        self.user_id = user.id
        self.email = user.email
        self.role = user.role
        self.agency_id = user.agency_id
        self.entity_id = user.entity_id
        self.session_version = user.session_version
        self.actor = actor_for(user)

    def get_id(self) -> str:
        """The session stores the id with the session version."""
        return f"{self.user_id}:{self.session_version}"


def _load_user(session_id: str) -> SignedInUser | None:
    """Accept a session only while its version is current and the account active."""
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    with get_db().session() as session:
        user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return SignedInUser(user)


def init_auth(app: Flask) -> None:
    """Wire sign-in, CSRF and rate limits into the app."""
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    login_manager.login_view = "workspace.sign_in"
    login_manager.login_message = "Please sign in to continue."
    csrf.init_app(app)
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", app.config.get("RATELIMIT_STORAGE") or "memory://"
    )
    limiter.init_app(app)


def current_actor() -> Actor:
    """The actor behind this request: a signed-in user, an API token's owner, or anonymous."""
    token_actor = g.get("token_actor")
    if token_actor is not None:
        return token_actor  # type: ignore[no-any-return]
    if current_user.is_authenticated:
        return current_user.actor  # type: ignore[no-any-return]
    return Actor.anonymous()


def role_required(*roles: Role) -> Any:
    """A view decorator: sign-in first, then one of these roles, else 403."""

    def decorate(view: Any) -> Any:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()  # type: ignore[no-any-return]
            if current_user.role not in roles:
                abort(403, description="Your account may not use this page.")
            return view(*args, **kwargs)  # type: ignore[no-any-return]

        return wrapped

    return decorate


def safe_next(target: str | None, default: str) -> str:
    """A redirect target only if it is a path on this site (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def redirect_to_sign_in() -> ResponseReturnValue:
    """Send an anonymous visitor to sign in, coming back here afterwards."""
    return redirect(url_for("workspace.sign_in", next=request.full_path))
