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
from sqlalchemy.exc import OperationalError

from portal.cli_agencies import agencies
from portal.cli_common import command_app, db_of
from portal.db import Database
from portal.errors import PortalError
from portal.models import Role


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Accountability Portal: a public register of findings with explained scores."""


@cli.command()
@click.option("--skip-index", is_flag=True, help="Upgrade the database only.")
def init(skip_index: bool) -> None:
    """Create or upgrade the database to the newest schema, and bring the index up to date."""
    from portal.migrate import upgrade

    with command_app() as app:
        Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
        upgrade(db_of(app))
        click.echo(f"Database ready: {db_of(app).engine.url.render_as_string(hide_password=True)}")
        if skip_index:
            return
        index = app.extensions["portal.search"]
        if index.backend.last_seq() == 0:
            index.rebuild()
        else:
            index.catch_up()
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
@click.option(
    "--threads", default=1, show_default=True, type=click.IntRange(1, 64), help="Per worker."
)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, threads: int, reload: bool) -> None:
    """Serve the portal with gunicorn."""
    from portal.serve import serve as run

    run(host=host, port=port, workers=workers, reload=reload, threads=threads)


@cli.group(name="import")
def import_group() -> None:
    """Import entities or records from CSV or JSON Lines (all-or-nothing)."""


@import_group.command(name="entities")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row, write nothing.")
@click.option(
    "--max-size", default=20.0, show_default=True, type=float, help="Refuse files over this (MB)."
)
def import_entities_command(file: Path, dry_run: bool, max_size: float) -> None:
    """Import entities from FILE."""
    from portal.services.access import Actor
    from portal.services.imports.run import import_entities

    with command_app() as app:
        limit = int(max_size * 1024 * 1024)
        report = import_entities(
            db_of(app), file, actor=Actor.cli("import"), dry_run=dry_run, max_bytes=limit
        )
        _finish_import(report)


@import_group.command(name="records")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--agency",
    default=None,
    help="Slug of the publishing agency. Required without --mapping; with a mapping that "
    "chooses the agency per row, only that agency's rows are imported.",
)
@click.option(
    "--mapping",
    default=None,
    help="A column mapping: a name from portal/mappings (e.g. gdpr-fines) or a TOML file.",
)
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter of the mapping."
)
@click.option("--decided-on", default=None, help="Same as --param decided_on=YYYY-MM-DD.")
@click.option("--dry-run", is_flag=True, help="Check every row, write nothing.")
@click.option(
    "--max-size", default=20.0, show_default=True, type=float, help="Refuse files over this (MB)."
)
def import_records_command(
    file: Path,
    agency: str | None,
    mapping: str | None,
    params: tuple[str, ...],
    decided_on: str | None,
    dry_run: bool,
    max_size: float,
) -> None:
    """Import records from FILE and publish them: in our columns, or through a mapping."""
    from portal.services.access import Actor
    from portal.services.imports.run import run_import

    if mapping is None and not agency:
        raise click.UsageError("--agency is required without --mapping.")
    values = dict(p.partition("=")[::2] for p in params)
    if any("=" not in p for p in params):
        raise click.UsageError("--param takes NAME=VALUE.")
    if decided_on:
        values["decided_on"] = decided_on
    if values and mapping is None:
        raise click.UsageError("--param and --decided-on go with --mapping.")
    with command_app() as app:
        report = run_import(
            db_of(app),
            file,
            actor=Actor.cli("import"),
            mapping=mapping,
            agency_slug=agency,
            params=values,
            dry_run=dry_run,
            max_bytes=int(max_size * 1024 * 1024),
        )
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


@cli.command(name="backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Back up the database to FILE while the site keeps serving."""
    from portal.services.backup import backup

    with command_app() as app:
        written = backup(db_of(app), file)
    click.echo(f"Backed up to {written}.")


@cli.command(name="restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(file: Path) -> None:
    """Restore FILE into an empty register, then verify the log and rebuild scores and index."""
    from portal.services.audit import verify_chain
    from portal.services.backup import restore
    from portal.services.scores import recompute_all

    with command_app() as app:
        restore(db_of(app), file)
        with db_of(app).session() as session:
            report = verify_chain(session)
        if not report.ok:
            raise click.ClickException(f"the restored log fails at seq {report.bad_seq}")
        seen, changed = recompute_all(db_of(app))
        count, _seconds = app.extensions["portal.search"].rebuild()
    click.echo(
        f"Restored: {report.events:,} events verified, {seen:,} entities rescored "
        f"({changed:,} changed), {count:,} documents indexed."
    )


@cli.group()
def retention() -> None:
    """Retention of personal data."""


@retention.command(name="apply")
def retention_apply() -> None:
    """Log officials whose records have left public view, and delete screenings older than
    30 days (run daily, e.g. from cron)."""
    from portal.models import utcnow
    from portal.services.access import Actor
    from portal.services.retention import apply_retention
    from portal.services.screen_jobs import purge_jobs

    with command_app() as app, db_of(app).writing() as session:
        retired = apply_retention(session, Actor.cli("retention"), utcnow().date())
        purged = purge_jobs(app.config["DATA_DIR"])
    click.echo(f"{len(retired)} official(s) left public view; {purged} old screening(s) deleted.")


@cli.group()
def users() -> None:
    """Accounts."""


@users.command(name="create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--agency", default=None, help="Agency slug (regulators).")
@click.option("--entity", default=None, help="Entity slug (representatives).")
def users_create(email: str, role: str, agency: str | None, entity: str | None) -> None:
    """Create an account; asks for the password twice (also read from standard input)."""
    from portal.services.access import Actor
    from portal.services.accounts import create_user

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with command_app() as app, db_of(app).writing() as session:
        user = create_user(session, Actor.cli(), email, password, Role(role), agency, entity)
        click.echo(f"Created {user.email} ({role}).")


@cli.group()
def tokens() -> None:
    """Regulators' API tokens."""


@tokens.command(name="create")
@click.argument("email")
@click.option("--label", default=None, help="What the token is for.")
def tokens_create(email: str, label: str | None) -> None:
    """Print a new API token once, on its own line; only its hash is kept."""
    from portal.services.access import Actor
    from portal.services.accounts import create_token

    with command_app() as app, db_of(app).writing() as session:
        raw = create_token(session, Actor.cli(), _user(session, email), label)
    click.echo(raw)


@tokens.command(name="revoke")
@click.argument("email")
@click.option("--id", "token_id", type=int, default=None, help="Revoke only this token.")
def tokens_revoke(email: str, token_id: int | None) -> None:
    """Revoke every token of a user (or one, with --id)."""
    from portal.services.access import Actor
    from portal.services.accounts import revoke_tokens

    with command_app() as app, db_of(app).writing() as session:
        count = revoke_tokens(session, Actor.cli(), _user(session, email), token_id)
    click.echo(f"Revoked {count} token(s).")


def _user(session: Any, email: str) -> Any:
    """The account with this email, or a clear error."""
    from portal.errors import NotFound
    from portal.services.accounts import user_by_email

    user = user_by_email(session, email)
    if user is None:
        raise NotFound(f"No account has the email {email!r}.")
    return user


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


@cli.command()
@click.argument("slug")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the PDF.")  # fmt: skip
@click.option("--variant", type=click.Choice(["ua", "pdfa"]), default="ua", show_default=True,
              help="ua: tagged PDF/UA-1; pdfa: PDF/A-3b for archiving.")  # fmt: skip
@click.option("--base-url", default=None, help="The register's public address for the QR code "
              "(default: the PUBLIC_URL setting).")  # fmt: skip
def report(slug: str, output: Path, variant: str, base_url: str | None) -> None:
    """Write one entity's PDF report to a file, recorded so that anyone can verify it."""
    from portal.models import utcnow
    from portal.reports.cache import ReportCache, write_atomically
    from portal.reports.entity import entity_pdf
    from portal.reports.service import ReportRequest
    from portal.reports.settings import ReportSettings
    from portal.services.access import Actor

    with command_app() as app, app.app_context():
        settings = ReportSettings.from_config(app.config)
        address = base_url or settings.public_url
        if not address:
            raise click.ClickException(
                "the QR code needs the register's public address: set PORTAL_PUBLIC_URL "
                "or pass --base-url"
            )
        request = ReportRequest(
            variant, address.rstrip("/") + "/", utcnow().date(), Actor.cli("report"), settings
        )
        cache = ReportCache(Path(app.config["DATA_DIR"]) / "reports")
        served = entity_pdf(db_of(app), app.jinja_env, cache, request, slug)
        data = served.read()
        write_atomically(output.resolve(), data)
    click.echo(f"Report {served.report_id} written to {output} ({len(data):,} bytes, "
               f"sha256 {served.sha256}).")  # fmt: skip


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


# Command groups kept in modules of their own, so that this one stays small.
cli.add_command(agencies)
