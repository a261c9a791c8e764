"""The published methodology page, its versions, and the entity page's explanation."""

from __future__ import annotations

import scoring
from tests.factories import make_agency, make_entity, make_record, statements


def test_methodology_shows_every_rulebook_in_force_with_its_values(client):
    html = client.get("/methodology/").get_data(as_text=True)
    for rulebook in scoring.default_rulebooks().in_force(__import__("datetime").date.today()):
        assert f"({rulebook.jurisdiction} {rulebook.version})" in html
    assert 'Environment</th><td class="num">1.5</td>' in html  # GB's stricter weight
    assert "Worked example" in html and "EXAMPLE-1" in html
    assert 'href="/methodology/default/2020.1"' in html
    assert "(not in force today)" in html


def test_the_worked_example_is_computed_by_the_engine(client):
    from portal.views.methodology import worked_example

    today = __import__("datetime").date.today()
    example = worked_example(scoring.default_rulebooks().select("default", today), today)
    html = client.get("/methodology/").get_data(as_text=True)
    assert f"<strong>{example.value:.2f}</strong>" in html
    repeat = dict(next(c for c in example.contributions if c.record == "EXAMPLE-1").factors)
    assert repeat["repeat"] == 1.5


def test_an_older_version_has_its_own_page_and_unknown_ones_404(client):
    old = client.get("/methodology/default/2020.1")
    assert old.status_code == 200
    assert "not in force today" in old.get_data(as_text=True)
    assert client.get("/methodology/default/1999.9").status_code == 404


def test_methodology_json_lists_rulebooks_in_force_and_all_versions(client):
    body = client.get("/api/v1/methodology").get_json()
    assert {r["jurisdiction"] for r in body["in_force"]} == {"default", "GB", "US-CA"}
    assert len(body["all"]) == len(scoring.default_rulebooks().all())
    assert body["in_force"][0]["severity_points"]["severe"] > 0


def test_entity_page_explains_each_record_and_what_changes_next(client, db):
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session)
        record = make_record(session, agency, entity, severity="serious", title="Leaky database")
    html = client.get(f"/entities/{entity.slug}").get_data(as_text=True)
    assert "85.60" in html and "Significant concerns" not in html
    assert f'<a href="/records/{record.ref}">{record.ref}</a>' in html
    assert "Leaky database" in html
    assert "Category weight × 1.2" in html
    assert "Verified remediation would restore 7.20 points" in html
    assert "stops counting; the score becomes 100.00" in html


def test_entity_without_records_says_no_record_is_not_proof(client, db):
    with db.writing() as session:
        make_entity(session, name="Clean Ltd")
    html = client.get("/entities/clean-ltd").get_data(as_text=True)
    assert "No published record about this entity. No record is not proof of compliance." in html
    assert client.get("/entities/nobody").status_code == 404


def test_entity_page_queries_do_not_grow_with_records(client, db):
    with db.writing() as session:
        agency = make_agency(session)
        one = make_entity(session, name="One Record Ltd")
        many = make_entity(session, name="Many Records Ltd")
        make_record(session, agency, one)
        for i in range(200):
            make_record(session, agency, many, title=f"Finding {i}", severity="minor")
    small = len(statements(db, lambda: client.get("/entities/one-record-ltd")))
    large = len(statements(db, lambda: client.get("/entities/many-records-ltd")))
    assert small == large
    assert "Finding 199" in client.get("/entities/many-records-ltd").get_data(as_text=True)
