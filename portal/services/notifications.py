"""In-app notifications, e-mailed through SMTP when it is configured."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from typing import Any

from sqlmodel import Session, col, select

from portal.db import Database
from portal.models import Notification, Role, User, utcnow

log = logging.getLogger(__name__)


def notify(
    session: Session, user_ids: Iterable[int | None], message: str, link: str | None
) -> None:
    """Put a message in each user's inbox (in the caller's transaction)."""
    for user_id in sorted({u for u in user_ids if u}):
        session.add(Notification(user_id=user_id, message=message[:500], link=link))


def agency_users(session: Session, agency_id: int) -> list[int]:
    """The regulators of an agency."""
    rows = session.exec(select(User.id).where(User.agency_id == agency_id, User.active)).all()
    return [r for r in rows if r]


def admins(session: Session) -> list[int]:
    """Every active administrator."""
    rows = session.exec(select(User.id).where(User.role == Role.ADMIN, User.active)).all()
    return [r for r in rows if r]


def representatives(session: Session, entity_id: int) -> list[int]:
    """The verified representatives of an entity."""
    rows = session.exec(
        select(User.id).where(User.entity_id == entity_id, User.role == Role.REPRESENTATIVE)
    ).all()
    return [r for r in rows if r]


def inbox(session: Session, user_id: int, limit: int = 50) -> list[Notification]:
    """A user's newest notifications."""
    return list(
        session.exec(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(col(Notification.id).desc())
            .limit(limit)
        ).all()
    )


def deliver_email(db: Database, config: Mapping[str, Any], base_url: str = "") -> int:
    """Send every notification not yet e-mailed; return how many went. No SMTP, no mail."""
    host = config.get("SMTP_HOST")
    if not host:
        return 0
    with db.writing() as session:
        pending = session.exec(
            select(Notification, User.email)
            .join(User, col(User.id) == Notification.user_id)
            .where(col(Notification.emailed_at).is_(None))
            .limit(200)
        ).all()
        sent = 0
        try:
            with smtplib.SMTP(host, int(config.get("SMTP_PORT") or 25), timeout=10) as smtp:
                for note, email in pending:
                    smtp.send_message(_message(config, email, note, base_url))
                    note.emailed_at = utcnow()
                    session.add(note)
                    sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("could not send notifications by e-mail: %s", exc)
    return sent


def _message(config: Mapping[str, Any], to: str, note: Notification, base_url: str) -> EmailMessage:
    """One plain-text e-mail for a notification."""
    message = EmailMessage()
    message["From"] = config.get("SMTP_FROM") or "register@localhost"
    message["To"] = to
    message["Subject"] = "Accountability Portal: " + note.message[:80]
    link = f"\n\n{base_url}{note.link}" if note.link else ""
    message.set_content(note.message + link)
    return message
