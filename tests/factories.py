"""Shared test data, made through the services so every row is logged as in life."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from portal.models import Agency, Entity, Record, User
from portal.services.access import Actor
from portal.services.entities import create_entity, parse_entity
from portal.services.records import create_record, parse_record, publish_record
from portal.services.register import create_agency

OPERATOR = Actor.cli("test")
# The operator the `portal import` command acts as.
IMPORTER = Actor.cli("import")


def make_agency(session: Session, slug: str = "ico", **kwargs: Any) -> Agency:
    """An agency publishing data-protection findings in GB, unless told otherwise."""
    values = {
        "name": "Information Commissioner's Office",
        "jurisdiction": "GB",
        "categories": ["data_protection", "transparency", "certification"],
    }
    values.update(kwargs)
    return create_agency(session, OPERATOR, slug, **values)


def make_entity(session: Session, name: str = "Acme Widgets Ltd", **kwargs: str) -> Entity:
    """A GB business unless told otherwise."""
    row = {"name": name, "kind": "business", "jurisdiction": "GB", **kwargs}
    return create_entity(session, OPERATOR, parse_entity(row))


def make_record(
    session: Session,
    agency: Agency,
    entity: Entity,
    publish: bool = True,
    actor: Actor = OPERATOR,
    **kwargs: str,
) -> Record:
    """A moderate data-protection violation, published unless told otherwise."""
    row = {
        "category": "data_protection",
        "severity": "moderate",
        "title": "Breach not reported in time",
        "decided_on": (date.today() - timedelta(days=30)).isoformat(),
        **kwargs,
    }
    record = create_record(session, actor, agency, entity, parse_record(row, agency, date.today()))
    if publish:
        publish_record(session, actor, record)
    return record


PASSWORD = "correct horse battery staple"


def make_user(
    session: Session, email: str, role: str, agency: str | None = None, entity: str | None = None
) -> User:
    """An account with the shared test password."""
    from portal.models import Role
    from portal.services.accounts import create_user

    return create_user(session, OPERATOR, email, PASSWORD, Role(role), agency, entity)


def csrf_token(client: Any, path: str = "/workspace/sign-in") -> str:
    """The CSRF token a form on `path` carries."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: Any, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the form, as a person would."""
    token = csrf_token(client)
    return client.post(
        "/workspace/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )


def statements(db: Any, action: Any) -> list[str]:
    """Run `action` and return the SQL statements it sent to `db`, in order."""
    from sqlalchemy import event

    sent: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    return sent
