"""Backups round-trip every table, and a restored register verifies and serves."""

from __future__ import annotations

import uuid

from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import SQLModel

from portal.cli import cli
from portal.db import Database, make_engine
from portal.demo import load_demo
from tests.conftest import ON_POSTGRES, PG_URL, sqlite_only


def _dump(db):
    """Every row of every table, in primary-key order."""
    out = {}
    with db.engine.connect() as conn:
        for name, table in SQLModel.metadata.tables.items():
            keys = ", ".join(c.name for c in table.primary_key.columns)
            rows = conn.execute(text(f'SELECT * FROM "{name}" ORDER BY {keys}')).all()
            out[name] = [tuple(row) for row in rows]
    return out


def _empty_target(tmp_path):
    """A URL for an empty database to restore into."""
    if not ON_POSTGRES:
        return f"sqlite:///{tmp_path / 'restored' / 'portal.sqlite3'}", None
    name = f"portal_restore_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return PG_URL.rsplit("/", 1)[0] + f"/{name}", (admin, name)


def test_backup_and_restore_round_trip_every_table(app, db, tmp_path):
    load_demo(db, app.config["DATA_DIR"], entities=120, seed=9, progress=False)
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    runner = CliRunner()
    result = runner.invoke(cli, ["backup", str(tmp_path / "register.backup")], env=env)
    assert result.exit_code == 0, result.output
    again = runner.invoke(cli, ["backup", str(tmp_path / "register.backup")], env=env)
    assert again.exit_code != 0  # never overwrites a backup
    url, cleanup = _empty_target(tmp_path)
    restored_env = {"PORTAL_DATA_DIR": str(tmp_path / "restored"), "DATABASE_URL": url}
    restored = runner.invoke(cli, ["restore", str(tmp_path / "register.backup")], env=restored_env)
    assert restored.exit_code == 0, restored.output
    assert "events verified" in restored.output and "documents indexed" in restored.output
    copy = Database(url)
    try:
        assert _dump(copy) == _dump(db)
    finally:
        copy.dispose()
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.dispose()


@sqlite_only
def test_restore_refuses_a_register_that_holds_data(app, db, tmp_path):
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    CliRunner().invoke(cli, ["backup", str(tmp_path / "b")], env=env)
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "b")], env=env)
    assert result.exit_code != 0
