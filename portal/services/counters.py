"""Named sequences that stay gap-free per name inside a transaction."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from portal.models import Counter


def next_value(session: Session, name: str) -> int:
    """Increment the counter `name` (creating it at 1) and return the new value."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Counter)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=["name"], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    )
    return int(session.connection().execute(statement).scalar_one())
