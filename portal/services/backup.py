"""Backups taken while the site serves, and restores into an empty data directory."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump / pg_restore, with fixed arguments
from pathlib import Path

from sqlalchemy.engine import make_url

from portal.db import Database
from portal.errors import PortalError


def backup(db: Database, target: Path) -> Path:
    """Write a consistent copy of the database to `target` (SQLite backup API, or pg_dump)."""
    target = target.resolve()
    if target.exists():
        raise PortalError(f"{target} exists; choose a new file name.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    url = make_url(db.url)
    if db.is_sqlite:
        source = sqlite3.connect(url.database or "")
        try:
            with sqlite3.connect(partial) as copy:
                source.backup(copy)  # an online backup: writers keep going meanwhile
            copy.close()
        finally:
            source.close()
    else:
        _pg("pg_dump", ["--format=custom", f"--file={partial}", _pg_dsn(db)])
    partial.replace(target)
    return target


def restore(db: Database, source: Path) -> None:
    """Load a backup into this (empty) database."""
    if not source.is_file():
        raise PortalError(f"{source} is not a backup file.")
    url = make_url(db.url)
    if db.is_sqlite:
        path = Path(url.database or "")
        if path.exists() and path.stat().st_size > 0 and _has_tables(path):
            raise PortalError(
                f"{path} already holds a register; restore into an empty data directory."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        db.dispose()
        shutil.copyfile(source, path)
        return
    _pg("pg_restore", ["--no-owner", "--exit-on-error", f"--dbname={_pg_dsn(db)}", str(source)])


def _has_tables(path: Path) -> bool:
    """True when a SQLite file already has tables."""
    with sqlite3.connect(path) as conn:
        return bool(
            conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        )


def _pg_dsn(db: Database) -> str:
    """A libpq connection string for the PostgreSQL tools."""
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg(tool: str, args: list[str]) -> None:
    """Run a PostgreSQL client tool; its error becomes one clear line."""
    if shutil.which(tool) is None:
        raise PortalError(f"{tool} is not installed (it comes with the PostgreSQL client).")
    result = subprocess.run([tool, *args], capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise PortalError(f"{tool} failed: {result.stderr.strip().splitlines()[-1:]}")
