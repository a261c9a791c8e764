"""Accounts: passwords, sign-in with lock-out and TOTP, revocable sessions, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, func, select

from portal.db import Database
from portal.errors import NotFound, ValidationFailed
from portal.models import Agency, ApiToken, Entity, Role, User, utcnow
from portal.services.access import Actor, may_manage_register, require
from portal.services.audit import append_event


def production_hasher() -> PasswordHasher:
    """argon2id with the library's defaults: memory-hard (64 MiB), 3 passes."""
    return PasswordHasher()


HASHER = production_hasher()
MIN_PASSWORD = 12
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
DEMO_DOMAIN = "@demo.invalid"
# Verified when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = HASHER.hash("not a real password, only for timing")


def _log(
    session: Session,
    actor: Actor,
    action: str,
    user: User,
    occurred_at: datetime | None = None,
    **payload: object,
) -> None:
    """Log an account change without the email address or any secret."""
    body = {"role": user.role, "agency_id": user.agency_id, "entity_id": user.entity_id}
    obj = ("user", f"user:{user.id}")
    append_event(session, actor, action, obj, {**body, **payload}, None, occurred_at)


def check_password(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed(
            f"The password must have at least {MIN_PASSWORD} characters.",
            {"password": f"is shorter than {MIN_PASSWORD} characters"},
        )


def user_by_email(session: Session, email: str) -> User | None:
    """The user with this email, ignoring case."""
    return session.exec(select(User).where(func.lower(User.email) == email.strip().lower())).first()


def create_user(
    session: Session,
    actor: Actor,
    email: str,
    password: str,
    role: Role,
    agency_slug: str | None = None,
    entity_slug: str | None = None,
    occurred_at: datetime | None = None,
) -> User:
    """Create an account; only admins and operators may."""
    require(may_manage_register(actor), "create accounts")
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise ValidationFailed("The email address is not valid.", {"email": "is not valid"})
    if user_by_email(session, email):
        raise ValidationFailed("An account with this email exists.", {"email": "is taken"})
    check_password(password)
    agency = _agency(session, agency_slug) if agency_slug else None
    entity = (
        session.exec(select(Entity).where(Entity.slug == entity_slug)).first()
        if entity_slug
        else None
    )
    if role == Role.REGULATOR and agency is None:
        raise ValidationFailed("A regulator belongs to an agency.", {"agency": "is required"})
    if entity_slug and entity is None:
        raise ValidationFailed("Unknown entity.", {"entity": f"no entity {entity_slug!r}"})
    user = User(
        email=email,
        password_hash=HASHER.hash(password),
        role=role,
        agency_id=agency.id if agency else None,
        entity_id=entity.id if entity else None,
    )
    session.add(user)
    session.flush()
    _log(session, actor, "user.created", user, occurred_at)
    return user


def _agency(session: Session, slug: str) -> Agency:
    """The agency with this slug, or NotFound."""
    agency = session.exec(select(Agency).where(Agency.slug == slug)).first()
    if agency is None:
        raise NotFound(f"No agency has the slug {slug!r}.")
    return agency


@dataclass
class SignIn:
    """The outcome of a sign-in attempt; the caller commits whatever it recorded."""

    user: User | None
    message: str | None = None
    needs_totp: bool = False


def authenticate(
    session: Session, email: str, password: str, totp: str | None = None, demo_allowed: bool = False
) -> SignIn:
    """Check a password (and TOTP), counting failures and locking the account after too many."""
    now = utcnow()
    user = user_by_email(session, email or "")
    wrong = SignIn(None, "The email address or password is not right.")
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        return wrong
    if user.email.endswith(DEMO_DOMAIN) and not demo_allowed:
        return SignIn(None, "Demo accounts work only on a register made by `portal demo`.")
    if user.locked_until and user.locked_until > now:
        return SignIn(
            None, f"Too many failed attempts. Try again after {user.locked_until:%H:%M} UTC."
        )
    if not _verify(user.password_hash, password):
        return _failed(session, user, now, wrong)
    if _totp_required(session, user):
        if not user.totp_secret or not totp:
            return SignIn(None, "Enter the code from your authenticator app.", needs_totp=True)
        if not pyotp.TOTP(user.totp_secret).verify(totp.strip(), valid_window=1):
            return _failed(
                session, user, now, SignIn(None, "The code is not right.", needs_totp=True)
            )
    user.failed_logins = 0
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    session.add(user)
    return SignIn(user)


def _verify(password_hash: str, password: str) -> bool:
    """True when the password matches the argon2 hash."""
    try:
        return HASHER.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def _failed(session: Session, user: User, now: datetime, result: SignIn) -> SignIn:
    """Count a failure; the fifth in a row locks the account for a while."""
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILURES:
        user.locked_until = now + LOCK_FOR
        user.failed_logins = 0
        _log(session, Actor.cli("system"), "user.locked", user)
    session.add(user)
    return result


def _totp_required(session: Session, user: User) -> bool:
    """A second factor is needed if the user set one up or the agency requires it."""
    if user.totp_secret:
        return True
    if user.agency_id:
        agency = session.get(Agency, user.agency_id)
        return bool(agency and agency.requires_totp)
    return False


def end_sessions(session: Session, user: User) -> None:
    """Invalidate every session of the user (sign-out, password change, disabling)."""
    user.session_version += 1
    session.add(user)


def change_password(session: Session, actor: Actor, user: User, old: str, new: str) -> None:
    """Change one's own password; every other session ends."""
    require(actor.user_id == user.id, "change another person's password")
    if not _verify(user.password_hash, old):
        raise ValidationFailed("The current password is not right.", {"old": "is not right"})
    check_password(new)
    user.password_hash = HASHER.hash(new)
    end_sessions(session, user)
    _log(session, actor, "user.password_changed", user)


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions and tokens at once."""
    require(may_manage_register(actor), "enable or disable accounts")
    user.active = active
    end_sessions(session, user)
    _log(session, actor, "user.enabled" if active else "user.disabled", user)


def change_role(
    session: Session,
    actor: Actor,
    user: User,
    role: Role,
    agency_slug: str | None = None,
    entity_slug: str | None = None,
) -> User:
    """Give an account another role (and agency or entity); its sessions end."""
    require(may_manage_register(actor), "change roles")
    agency = _agency(session, agency_slug) if agency_slug else None
    if role == Role.REGULATOR and agency is None:
        raise ValidationFailed("A regulator belongs to an agency.", {"agency": "is required"})
    entity = (
        session.exec(select(Entity).where(Entity.slug == entity_slug)).first()
        if entity_slug
        else None
    )
    if entity_slug and entity is None:
        raise ValidationFailed("Unknown entity.", {"entity": f"no entity {entity_slug!r}"})
    before = user.role
    user.role = role
    user.agency_id = agency.id if agency else None
    user.entity_id = entity.id if entity else None
    end_sessions(session, user)
    _log(session, actor, "user.role_changed", user, None, previous=before)
    return user


def _token_hash(raw: str) -> str:
    """Tokens are random, so a plain sha256 suffices to store them safely."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(session: Session, actor: Actor, user: User, label: str | None = None) -> str:
    """A new API token for a regulator; the raw token is returned once, only its hash kept."""
    require(may_manage_register(actor) or actor.user_id == user.id, "create tokens for others")
    if user.role != Role.REGULATOR:
        raise ValidationFailed("Only regulators have API tokens.", {"user": "is not a regulator"})
    raw = "ap_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id or 0, token_hash=_token_hash(raw), label=label)
    session.add(token)
    session.flush()
    _log(session, actor, "token.created", user, token_id=token.id)
    return raw


def revoke_tokens(session: Session, actor: Actor, user: User, token_id: int | None = None) -> int:
    """Revoke every token of a user (or one); return how many were revoked."""
    require(may_manage_register(actor) or actor.user_id == user.id, "revoke tokens of others")
    query = select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
    if token_id is not None:
        query = query.where(ApiToken.id == token_id)
    tokens = session.exec(query).all()
    for token in tokens:
        token.revoked_at = utcnow()
        session.add(token)
    if tokens:
        _log(session, actor, "token.revoked", user, token_ids=[t.id for t in tokens])
    return len(tokens)


def user_for_token(session: Session, raw: str) -> User | None:
    """The active regulator a live token belongs to, or None."""
    row = session.exec(
        select(User)
        .join(ApiToken, col(ApiToken.user_id) == User.id)
        .where(ApiToken.token_hash == _token_hash(raw), col(ApiToken.revoked_at).is_(None))
    ).first()
    return row if row is not None and row.active and row.role == Role.REGULATOR else None


def actor_for(user: User) -> Actor:
    """The change-log actor for a signed-in user."""
    return Actor(
        label=f"user:{user.id}",
        role=user.role,
        user_id=user.id,
        agency_id=user.agency_id,
        entity_id=user.entity_id,
    )


def sign_in(
    db: Database, email: str, password: str, totp: str | None, demo_allowed: bool
) -> SignIn:
    """Authenticate in one writing transaction, so failures and lock-outs are kept."""
    with db.writing() as session:
        result = authenticate(session, email, password, totp, demo_allowed)
        if result.user is not None:
            session.flush()
            session.expunge(result.user)
    return result


def sign_out(db: Database, user_id: int) -> None:
    """End every session of the user."""
    with db.writing() as session:
        user = session.get(User, user_id)
        if user is not None:
            end_sessions(session, user)
