"""Likely duplicates proposed to administrators, merged or kept apart for good."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portal.errors import PermissionDenied
from portal.models import Entity
from portal.services.access import Actor
from portal.services.duplicates import likely_duplicates
from tests import screening_set as data
from tests.factories import csrf_token, make_agency, make_entity, make_user, sign_in

pytestmark = pytest.mark.db
OPERATOR = Actor.cli("test")


@pytest.fixture
def spelled_twice(db):
    """GDPR controllers as the fines spell them, plus one firm under two nationalities."""
    with db.writing() as session:
        make_entity(session, "Vodafone România Sa", jurisdiction="RO")
        make_entity(session, "Vodafone Romania", jurisdiction="RO")
        make_entity(session, "Iberdrola Clientes", jurisdiction="ES")
        make_entity(session, "Iberdrola Clientes, Sau", jurisdiction="ES")
        make_entity(session, "Sego Ventures Nigeria Ltd", jurisdiction="NG")
        make_entity(session, "Sego Ventures Nigera Ltd", jurisdiction="NG")
        make_entity(session, "MS Gul Construction Co.", jurisdiction="PK")
        make_entity(session, "M/S Gul Construction Co.", jurisdiction="AF")
        make_entity(session, "Todini Costruzioni Generali SpA", jurisdiction="IT")
        make_entity(session, "Todini Costruzioni Generali S.p.A.", jurisdiction="AL")
        make_entity(session, "Acme Widgets Ltd", jurisdiction="GB")
        make_user(session, "admin@register.example", "admin")
        make_agency(session)
        make_user(session, "reg@ico.example", "regulator", agency="ico")


def _pairs(db):
    with db.session() as session:
        pairs, _total = likely_duplicates(session, OPERATOR)
    return {frozenset((p.low.slug, p.high.slug)): p for p in pairs}


def test_names_spelled_differently_are_proposed_with_their_evidence(db, spelled_twice):
    pairs = _pairs(db)
    vodafone = pairs[frozenset(("vodafone-romania-sa", "vodafone-romania"))]
    assert "similar names" in vodafone.evidence
    gul = pairs[frozenset(("ms-gul-construction-co", "m-s-gul-construction-co"))]
    assert gul.evidence == ("similar names",) and gul.low.jurisdiction != gul.high.jurisdiction
    todini = [p for p in pairs.values() if p.low.name.startswith("Todini")]
    assert [p.evidence for p in todini] == [("same name, another jurisdiction",)]
    assert frozenset(("sego-ventures-nigeria-ltd", "sego-ventures-nigera-ltd")) in pairs
    assert not any("acme-widgets-ltd" in pair for pair in pairs)


@pytest.mark.skipif(not data.available(), reason=f"the real data sets are not in {data.SHARED}")
def test_the_gdpr_controllers_spelled_differently_across_the_fines_are_proposed(db):
    with db.writing() as session:
        for party in data.gdpr_controllers():
            make_entity(session, party.name, jurisdiction=party.jurisdiction)
    names = {frozenset((p.low.name, p.high.name)) for p in _pairs(db).values()}
    assert frozenset(("Iberdrola Clientes", "Iberdrola Clientes, Sau")) in names
    assert frozenset(("Google Llc", "Google Llc")) in names  # fined in two countries


def test_not_the_same_keeps_a_pair_away_for_good_and_merge_merges(client, db, spelled_twice):
    sign_in(client, "admin@register.example")
    page = client.get("/admin/duplicates/").get_data(as_text=True)
    assert "Iberdrola Clientes" in page and "Evidence:" in page
    token = csrf_token(client, "/admin/duplicates/")
    pair = "iberdrola-clientes iberdrola-clientes-sau"
    kept_apart = client.post(
        "/admin/duplicates/decide",
        data={"csrf_token": token, "pair": pair, "keep": "iberdrola-clientes",
              "decision": "distinct", "reason": "A different company of the group"},
    )  # fmt: skip
    assert kept_apart.status_code == 302
    assert frozenset(pair.split()) not in _pairs(db)
    merged = client.post(
        "/admin/duplicates/decide",
        data={"csrf_token": token, "pair": "vodafone-romania-sa vodafone-romania",
              "keep": "vodafone-romania-sa", "decision": "merge"},
    )  # fmt: skip
    assert merged.status_code == 302
    with db.session() as session:
        gone = session.exec(select(Entity).where(Entity.slug == "vodafone-romania")).one()
        assert gone.merged_into_id is not None
    assert not any("vodafone-romania" in p for p in _pairs(db))
    assert "A different company of the group" not in client.get("/admin/duplicates/").get_data(
        as_text=True
    )


def test_only_administrators_see_or_decide_duplicates(client, db, spelled_twice):
    with db.session() as session, pytest.raises(PermissionDenied):
        likely_duplicates(session, Actor("user:9", None))
    assert client.get("/admin/duplicates/").status_code == 302
    sign_in(client, "reg@ico.example")
    assert client.get("/admin/duplicates/").status_code == 403
    token = csrf_token(client)
    answer = client.post(
        "/admin/duplicates/decide",
        data={"csrf_token": token, "pair": "iberdrola-clientes iberdrola-clientes-sau",
              "keep": "iberdrola-clientes", "decision": "distinct"},
    )  # fmt: skip
    assert answer.status_code == 403
    assert frozenset(("iberdrola-clientes", "iberdrola-clientes-sau")) in _pairs(db)


@pytest.mark.skipif(not data.available(), reason=f"the real data sets are not in {data.SHARED}")
def test_the_import_preview_names_new_entities_that_resemble_existing_ones(db, tmp_path):
    from portal.services.imports.run import run_import
    from tests.factories import IMPORTER

    with db.writing() as session:
        make_entity(session, "Telekom Romania Comunications Sa", jurisdiction="RO")  # a typo
        make_entity(session, "Telekom Romania Communications Sa", jurisdiction="HU")
    import csv

    with data.GDPR.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    # The header and the real fine against "Telekom Romania Communications Sa".
    sample = tmp_path / "gdpr.csv"
    with sample.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([rows[0], next(r for r in rows if r[0] == "ETid-977")])
    preview = run_import(db, sample, actor=IMPORTER, mapping="gdpr-fines", dry_run=True)
    (new,) = preview.entities_new
    assert new.name == "Telekom Romania Communications Sa"
    assert sorted(new.resembles) == [
        "Telekom Romania Communications Sa (telekom-romania-communications-sa, HU)",
        "Telekom Romania Comunications Sa (telekom-romania-comunications-sa, RO)",
    ]
    assert any("resembles one in the register" in line for line in preview.lines())
