"""Agencies beyond one country, and `portal agencies create|list|update`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlmodel import select

from portal.cli import cli
from portal.models import Agency, AuditEvent
from tests.factories import make_agency, make_entity, make_record

pytestmark = pytest.mark.db


def _run(app, *args):
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    return CliRunner().invoke(cli, list(args), env=env)


def test_an_international_body_is_created_listed_and_updated_from_the_command_line(app, db):
    made = _run(
        app, "agencies", "create", "worldbank", "--name", "World Bank Sanctions Board",
        "--categories", "public_procurement", "--second-approval",
    )  # fmt: skip
    assert made.exit_code == 0, made.output + made.stderr
    assert (
        made.stdout.strip()
        == "Created agency worldbank (World Bank Sanctions Board, international)."
    )
    national = _run(app, "agencies", "create", "fsa", "--name", "FSA", "--jurisdiction", "gb",
                    "--categories", "food_safety")  # fmt: skip
    assert national.exit_code == 0, national.stderr
    listed = _run(app, "agencies", "list")
    assert listed.stdout.splitlines() == [
        "fsa\tGB\tFSA\tfood_safety",
        "worldbank\tinternational\tWorld Bank Sanctions Board\tpublic_procurement",
    ]
    moved = _run(app, "agencies", "update", "worldbank", "--jurisdiction", "US",
                 "--categories", "public_procurement,financial_conduct")  # fmt: skip
    assert moved.exit_code == 0, moved.stderr
    with db.session() as session:
        bank = session.exec(select(Agency).where(Agency.slug == "worldbank")).one()
        assert bank.jurisdiction_code == "US" and bank.requires_second_approval
        assert bank.categories == ["public_procurement", "financial_conduct"]
        logged = session.exec(
            select(AuditEvent.action).where(AuditEvent.object_id == "worldbank")
        ).all()
    assert logged == ["agency.created", "agency.updated"]


def test_bad_input_is_one_clear_line_and_changes_nothing(app, db):
    bad_code = _run(app, "agencies", "create", "x", "--name", "X", "--jurisdiction", "Atlantis",
                    "--categories", "food_safety")  # fmt: skip
    assert bad_code.exit_code == 2 and "ISO 3166" in bad_code.stderr
    no_categories = _run(app, "agencies", "create", "x", "--name", "X", "--categories", " , ")
    assert no_categories.exit_code == 1 and "categories: are required" in no_categories.stderr
    unknown = _run(app, "agencies", "update", "nobody", "--name", "Y")
    assert unknown.exit_code == 1 and "No agency has the slug 'nobody'" in unknown.stderr
    with db.session() as session:
        assert session.exec(select(Agency)).all() == []


def test_an_international_agency_publishes_about_a_firm_in_kosovo(client, db):
    with db.writing() as session:
        bank = make_agency(
            session, "ebrd", name="European Bank for Reconstruction and Development",
            jurisdiction=None, categories=["public_procurement"],
        )  # fmt: skip
        firm = make_entity(session, "Kosova Build Sh.p.k.", jurisdiction="XK")
        make_record(session, bank, firm, category="public_procurement", title="Collusion")
    page = client.get("/agencies/ebrd").get_data(as_text=True)
    assert "International body" in page and "European Bank for Reconstruction" in page
    entity = client.get(f"/entities/{firm.slug}").get_data(as_text=True)
    assert "Kosovo" in entity and "Collusion" in entity
    api = client.get("/api/v1/agencies/ebrd").get_json()
    assert api["jurisdiction"] is None and api["links"]["jurisdiction"] is None
