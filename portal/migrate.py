"""Schema upgrades through Alembic, as `portal init` runs them."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from portal.config import ROOT
from portal.db import Database


def alembic_config() -> Config:
    """Alembic pointed at the project's migrations."""
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


def upgrade(db: Database) -> None:
    """Bring the database to the newest schema."""
    config = alembic_config()
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
