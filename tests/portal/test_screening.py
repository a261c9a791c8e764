"""Screening names against the register: POST /api/v1/match on real names."""

from __future__ import annotations

import pytest

from portal.services.access import Actor
from portal.services.entities import create_entity, parse_entity
from portal.services.screening import MATCH, POSSIBLE
from tests import screening_set as data
from tests.factories import make_agency, make_record

pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(not data.available(), reason=f"the real data sets are not in {data.SHARED}"),
]
OPERATOR = Actor.cli("test")


@pytest.fixture(scope="module")
def parties():
    """150 sanctioned organisations, 150 GDPR controllers and 100 merged charities."""
    return data.dfat_parties(150) + data.gdpr_controllers(150) + data.charity_parties(100)


@pytest.fixture
def register(db, parties):
    """Each party as an entity with its other names as aliases; slug -> party reference."""
    slugs = {}
    with db.writing() as session:
        for party in parties:
            row = {
                "name": party.name,
                "kind": "business",
                "jurisdiction": party.jurisdiction,
                "aliases": "|".join(dict.fromkeys((*party.aliases, *party.scripts, *party.former))),
            }
            slugs[create_entity(session, OPERATOR, parse_entity(row)).slug] = party.reference
    return slugs


def _match(client, queries):
    answer = client.post("/api/v1/match", json={"queries": queries})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["results"]


def test_real_names_written_other_ways_find_their_party(client, register, parties):
    cases = list(data.labelled(parties))
    found, missed = {}, []
    for start in range(0, len(cases), 200):
        batch = cases[start : start + 200]
        results = _match(client, [{"name": q} for q, _ref, _how in batch])
        for (query, ref, how), result in zip(batch, results, strict=True):
            top = result["candidates"][0] if result["candidates"] else None
            hit = top is not None and register[top["slug"]] == ref and top["score"] >= POSSIBLE
            found.setdefault(how, []).append(hit)
            if not hit:
                missed.append((how, query))
    recall = {how: sum(hits) / len(hits) for how, hits in found.items()}
    # Every way of writing a name is found at least nine times in ten; as listed, always.
    assert recall["as listed"] == 1.0, [m for m in missed if m[0] == "as listed"][:10]
    assert all(value >= 0.9 for value in recall.values()), (recall, missed[:20])
    assert {"accents removed", "one typo", "alias", "other script", "former name"} <= set(recall)


def test_names_the_register_does_not_hold_are_said_to_match_nothing(client, register):
    names = data.outsiders(200)
    results = _match(client, [{"name": n} for n in names])
    alarms = [
        (n, r["candidates"][0])
        for n, r in zip(names, results, strict=True)
        if r["verdict"] == "match"
    ]
    assert len(alarms) <= len(names) // 50, alarms[:5]
    plain = _match(client, [{"name": "Zyxwvut Quarkonium Holdings"}])[0]
    assert plain == {
        "query": {"name": "Zyxwvut Quarkonium Holdings"},
        "verdict": "no match",
        "candidates": [],
    }


def test_the_features_say_why_and_the_measures_in_force_come_with_the_band(client, db):
    with db.writing() as session:
        bank = make_agency(session, "wb", name="World Bank", categories=["public_procurement"])
        firm = create_entity(
            session,
            OPERATOR,
            parse_entity(
                {
                    "name": "Todini Costruzioni Generali S.p.A.",
                    "kind": "business",
                    "jurisdiction": "IT",
                    "registration_id": "IT00447650588",
                    "aliases": "Todini Construzioni Generali",
                }
            ),
        )
        make_record(
            session, bank, firm, category="public_procurement", severity="serious",
            title="Fraudulent practice", measure="debarment", in_force_until="2099-12-31",
        )  # fmt: skip
    (folded, alias, by_id, typo) = _match(
        client,
        [
            {"name": "TODINI COSTRUZIONI GENERALI", "jurisdiction": "it"},
            {"name": "Todini Construzioni Generali"},
            {"name": "Todini", "registration_id": "it 00447650588"},
            {"name": "Todinni Costruzioni Generali SpA"},
        ],
    )
    best = folded["candidates"][0]
    assert best["verdict"] == "match" and best["score"] >= MATCH
    assert {"name folded", "legal form dropped", "jurisdiction"} <= set(best["features"])
    assert best["under_sanction"] and best["band"] == "D"
    (measure,) = best["measures_in_force"]
    assert (measure["measure"], measure["agency"], measure["until"]) == (
        "debarment",
        "World Bank",
        "2099-12-31",
    )
    assert "alias" in alias["candidates"][0]["features"]
    assert "registration id" in by_id["candidates"][0]["features"]
    assert by_id["candidates"][0]["score"] >= 0.98
    assert typo["candidates"][0]["slug"] == best["slug"] and typo["verdict"] != "no match"


def test_a_bad_batch_is_refused_with_each_problem_named(client):
    too_many = client.post("/api/v1/match", json={"queries": [{"name": "x"}] * 501})
    assert too_many.status_code == 422
    bad = client.post("/api/v1/match", json={"queries": [{"name": ""}, {"nom": "x"}, "x"]})
    details = bad.get_json()["error"]["details"]
    assert bad.status_code == 422 and set(details) == {"queries[0]", "queries[1]", "queries[2]"}
    assert client.post("/api/v1/match", data="not json").status_code == 400
