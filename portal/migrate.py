"""Schema upgrades through Alembic, as `portal init` runs them."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from portal.config import ROOT
from portal.db import Database
from portal.errors import PortalError


def alembic_config() -> Config:
    """Alembic pointed at the project's migrations."""
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to the newest schema (or to `revision`).

    On SQLite, Alembic rebuilds a table to change it (copy, drop, rename); with
    foreign keys enforced, dropping a table other rows point at fails. So they
    are off during the upgrade, as SQLite's documentation prescribes, and every
    reference is checked before they are switched on again.
    """
    config = alembic_config()
    with db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection if db.is_sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
            if raw is not None:
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise PortalError(f"The upgrade left broken references: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
