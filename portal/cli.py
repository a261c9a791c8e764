"""The `portal` command: set-up, demo data, imports, serving and checks."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import OperationalError

from portal.app import create_app
from portal.db import Database
from portal.errors import PortalError


@contextmanager
def command_app() -> Iterator[Flask]:
    """The app for one command, its database connections closed afterwards."""
    app = create_app()
    try:
        yield app
    finally:
        app.extensions["portal.search"].close()
        db_of(app).dispose()


def db_of(app: Flask) -> Database:
    """The database of an app built for a command."""
    db: Database = app.extensions["portal.db"]
    return db


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Accountability Portal: a public register of findings with explained scores."""


@cli.command()
def init() -> None:
    """Create or upgrade the database to the newest schema."""
    from portal.migrate import upgrade

    with command_app() as app:
        Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
        upgrade(db_of(app))
        click.echo(f"Database ready: {db_of(app).engine.url.render_as_string(hide_password=True)}")
        index = app.extensions["portal.search"]
        index.refresh() or index.rebuild()
        click.echo(f"Search index ready: {index.backend.count():,} documents")


@cli.command()
@click.option("--entities", default=2000, show_default=True, help="How many entities to create.")
@click.option("--seed", default=1, show_default=True, help="Same seed, same data.")
def demo(entities: int, seed: int) -> None:
    """Load the deterministic demo data set into an empty register."""
    from portal.demo import load_demo
    from portal.migrate import upgrade

    with command_app() as app:
        upgrade(db_of(app))
        report = load_demo(db_of(app), app.config["DATA_DIR"], entities=entities, seed=seed)
        click.echo(report.summary())
        count, seconds = app.extensions["portal.search"].rebuild()
        click.echo(f"Search index built: {count:,} documents in {seconds:.1f} s.")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers.")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the portal with gunicorn."""
    from portal.serve import serve as run

    run(host=host, port=port, workers=workers, reload=reload)


@cli.group(name="import")
def import_group() -> None:
    """Import entities or records from CSV or JSON Lines (all-or-nothing)."""


@import_group.command(name="entities")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row, write nothing.")
def import_entities_command(file: Path, dry_run: bool) -> None:
    """Import entities from FILE."""
    from portal.services.imports import import_entities

    with command_app() as app:
        report = import_entities(db_of(app), file, dry_run=dry_run)
        _finish_import(report)


@import_group.command(name="records")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agency", required=True, help="Slug of the publishing agency.")
@click.option("--dry-run", is_flag=True, help="Check every row, write nothing.")
def import_records_command(file: Path, agency: str, dry_run: bool) -> None:
    """Import records of one agency from FILE and publish them."""
    from portal.services.imports import import_records

    with command_app() as app:
        report = import_records(db_of(app), file, agency_slug=agency, dry_run=dry_run)
        _finish_import(report)


def _finish_import(report: Any) -> None:
    """Print an import's outcome; exit 1 listing every bad row when there is one."""
    for line in report.lines():
        click.echo(line, err=not report.ok)
    if not report.ok:
        sys.exit(1)


@cli.group()
def scores() -> None:
    """Stored scores."""


@scores.command()
@click.option("--as-of", "as_of", default=None, help="Score as of YYYY-MM-DD (default today).")
@click.option("--workers", default=2, show_default=True, help="Processes that score batches.")
def recompute(as_of: str | None, workers: int) -> None:
    """Recompute every stored score in streamed batches."""
    from datetime import date

    from portal.services.scores import recompute_all

    day = date.fromisoformat(as_of) if as_of else None
    started = time.perf_counter()
    with command_app() as app, _progress_bar(db_of(app), "Scoring") as bar:
        seen, changed = recompute_all(db_of(app), day, progress=bar, workers=workers)
    click.echo(
        f"Rescored {seen:,} entities, {changed:,} scores changed, "
        f"in {time.perf_counter() - started:.1f} s."
    )


@contextmanager
def _progress_bar(db: Database, label: str) -> Iterator[Any]:
    """A progress bar over the entities of the register, on standard error."""
    from sqlalchemy import func
    from sqlmodel import select

    from portal.models import Entity

    with db.session() as session:
        total = session.exec(select(func.count()).select_from(Entity)).one()
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


@cli.group()
def search() -> None:
    """This machine's search index."""


@search.command()
def reindex() -> None:
    """Rebuild the index from the database beside the live one, then swap it in."""
    with command_app() as app:
        count, seconds = app.extensions["portal.search"].rebuild()
    click.echo(f"Search index rebuilt: {count:,} documents in {seconds:.1f} s.")


@cli.group()
def audit() -> None:
    """The change log."""


@audit.command()
@click.option("--against", "against", default=None, help="A head hash published earlier.")
def verify(against: str | None) -> None:
    """Walk the whole hash chain; exit 1 naming the first event that fails."""
    from portal.services.audit import verify_chain

    with command_app() as app:
        with db_of(app).session() as session:
            report = verify_chain(session, against=against)
        if not report.ok:
            click.echo(f"FAILED at seq {report.bad_seq}: {report.reason}", err=True)
            sys.exit(1)
        if against and not report.contains_hash:
            click.echo(
                f"FAILED: no event has the hash {against}; this log does not extend it.", err=True
            )
            sys.exit(1)
        click.echo(
            f"OK: {report.events} events, head seq {report.head_seq}, hash {report.head_hash}"
        )


def main() -> None:
    """Entry point: run the CLI, turning known failures into one clear line."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PortalError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except OperationalError as exc:
        click.echo(f"error: the database is unavailable or not initialised ({exc.orig})", err=True)
        sys.exit(1)
    except Exception as exc:
        if os.environ.get("PORTAL_DEBUG"):
            raise
        click.echo(f"error: {type(exc).__name__}: {exc} (set PORTAL_DEBUG=1 for details)", err=True)
        sys.exit(1)
