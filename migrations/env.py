"""Alembic environment: the portal's models, on the portal's configured database."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import portal.models  # noqa: F401  (registers every table on the metadata)
from portal.config import load_config
from portal.db import make_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    """Run against the connection `portal init` passes, or the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(load_config()["DATABASE_URL"])
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    """Configure the context (batch mode for SQLite's ALTER TABLE) and migrate."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `portal init`.")
run_migrations()
