"""`portal agencies create|list|update`: the publishing bodies, from the command line.

An agency without --jurisdiction is an international body (a development bank,
the UN, the EU): its findings are scored under the rulebook of each entity's own
jurisdiction, as every finding is.
"""

from __future__ import annotations

import click

from portal.cli_common import command_app, db_of
from portal.errors import PortalError
from portal.services.access import Actor
from portal.services.fields import FieldError, jurisdiction_code

OPERATOR = Actor.cli("agencies")


def _code(value: str | None) -> str | None:
    """A jurisdiction option checked as ISO 3166 (or XK); empty or 'international': None."""
    if not value or value.strip().lower() == "international":
        return None
    try:
        return jurisdiction_code(value)
    except FieldError as exc:
        raise click.BadParameter(str(exc), param_hint="--jurisdiction") from None


def _categories(value: str) -> list[str]:
    """Comma-separated categories."""
    return [c.strip() for c in value.split(",") if c.strip()]


def _fail(exc: PortalError) -> click.ClickException:
    """A service's refusal as one line naming each field."""
    details = exc.details if isinstance(exc.details, dict) else {}
    extra = "; ".join(f"{k}: {v}" for k, v in details.items())
    return click.ClickException(f"{exc.message} {extra}".strip())


@click.group()
def agencies() -> None:
    """Publishing agencies: regulators and international bodies."""


@agencies.command(name="create")
@click.argument("slug")
@click.option("--name", required=True, help="The agency's name as it publishes.")
@click.option("--jurisdiction", default=None, help="ISO 3166 code; omit for an international body.")
@click.option("--categories", required=True, help="Comma-separated categories it may publish.")
@click.option("--second-approval", is_flag=True, help="Findings need a second person's approval.")
def create(
    slug: str, name: str, jurisdiction: str | None, categories: str, second_approval: bool
) -> None:
    """Add an agency."""
    from portal.services.register import create_agency

    code = _code(jurisdiction)
    try:
        with command_app() as app, db_of(app).writing() as session:
            agency = create_agency(
                session, OPERATOR, slug, name, code, _categories(categories), second_approval
            )
            where = agency.jurisdiction_code or "international"
    except PortalError as exc:
        raise _fail(exc) from None
    click.echo(f"Created agency {slug} ({name}, {where}).")


@agencies.command(name="list")
def list_agencies() -> None:
    """Every agency: slug, jurisdiction (or international), name, categories."""
    from portal.services.exports import agency_list

    with command_app() as app, db_of(app).session() as session:
        found, total = agency_list(session, 1, 100_000)
        for a in found:
            where = a.jurisdiction_code or "international"
            click.echo(f"{a.slug}\t{where}\t{a.name}\t{','.join(a.categories)}")
    click.echo(f"{total} {'agency' if total == 1 else 'agencies'}", err=True)


@agencies.command(name="update")
@click.argument("slug")
@click.option("--name", default=None)
@click.option("--jurisdiction", default=None, help="ISO 3166 code, or 'international'.")
@click.option("--categories", default=None, help="Comma-separated; replaces the list.")
@click.option("--second-approval/--no-second-approval", default=None)
def update(
    slug: str,
    name: str | None,
    jurisdiction: str | None,
    categories: str | None,
    second_approval: bool | None,
) -> None:
    """Change an agency; options not given stay as they are."""
    from sqlmodel import select

    from portal.models import Agency
    from portal.services.admin import UNCHANGED, update_agency

    place = UNCHANGED if jurisdiction is None else _code(jurisdiction)
    try:
        with command_app() as app, db_of(app).writing() as session:
            agency = session.exec(select(Agency).where(Agency.slug == slug)).first()
            if agency is None:
                raise click.ClickException(f"No agency has the slug {slug!r}.")
            update_agency(
                session,
                OPERATOR,
                agency,
                _categories(categories) if categories is not None else agency.categories,
                agency.requires_second_approval if second_approval is None else second_approval,
                agency.requires_totp,
                name=name,
                jurisdiction=place,
            )
    except PortalError as exc:
        raise _fail(exc) from None
    click.echo(f"Updated agency {slug}.")
