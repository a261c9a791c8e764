"""One search box for everything: organisations and findings, counted and linked."""

from __future__ import annotations

import re

import pytest

from portal.services.search.searching import record_ref
from tests.factories import make_agency, make_entity, make_record

pytestmark = pytest.mark.db


@pytest.fixture
def register(db):
    """Two firms; one has a finding about shredded records, the other none."""
    with db.writing() as session:
        ico = make_agency(session)
        acme = make_entity(session, "Acme Widgets Ltd")
        make_entity(session, "Globex Shipping Ltd")
        finding = make_record(session, ico, acme, title="Customer files shredded without a log")
        return {"ref": finding.ref}


def _summary(html):
    found = re.search(r'<p class="results-summary"[^>]*>(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).split()


def test_a_word_only_a_finding_holds_shows_the_finding_instead_of_no_results(client, register):
    html = client.get("/search?q=shredded").get_data(as_text=True)
    assert " ".join(_summary(html)).startswith("0 organisations and officials · 1 finding")
    assert "No organisation or official matches; these are the findings that do." in html
    assert f'href="/records/{register["ref"]}"' in html and "No results" not in html


def test_a_name_shows_the_organisation_and_its_findings_each_with_a_count_and_a_link(
    client, register
):
    html = client.get("/search?q=acme").get_data(as_text=True)
    assert " ".join(_summary(html)).startswith("1 organisation or official · 1 finding")
    assert 'href="/entities/acme-widgets-ltd"' in html
    section = html[html.index('id="findings-too-heading"') :]
    assert "Findings that match (1)" in section
    assert f'href="/records/{register["ref"]}"' in section
    assert 'href="/search?q=acme&amp;type=record"' in section


def test_the_kinds_stay_searchable_on_their_own(client, register):
    entities = client.get("/search?q=acme&type=entity").get_data(as_text=True)
    assert "Findings that match" not in entities and "1 result for" in entities
    findings = client.get("/search?q=shredded&type=record").get_data(as_text=True)
    assert "1 result for" in findings


def test_a_record_reference_as_typed_goes_straight_to_the_record(client, register):
    ref = register["ref"]
    year, number = ref.split("-")[1:]
    for typed in (ref, ref.lower(), f"R {year} {int(number)}", f"R{year}{number}"):
        answer = client.get("/search", query_string={"q": typed})
        assert answer.status_code == 302 and answer.headers["Location"] == f"/records/{ref}"
    typed_by_htmx = client.get(
        "/search", query_string={"q": ref}, headers={"HX-Request": "true", "HX-Trigger": "q"}
    )
    assert typed_by_htmx.status_code == 200 and "HX-Redirect" not in typed_by_htmx.headers
    submitted = client.get(
        "/search",
        query_string={"q": ref},
        headers={"HX-Request": "true", "HX-Trigger": "search-form"},
    )
    assert submitted.headers["HX-Redirect"] == f"/records/{ref}"
    unknown = client.get("/search", query_string={"q": "R-1999-999999"})
    assert unknown.status_code == 200


def test_record_refs_are_read_however_they_are_typed():
    assert record_ref("r-2026-123") == "R-2026-000123"
    assert record_ref(" R_2026_000123 ") == "R-2026-000123"
    assert record_ref("R-2026-1234567") is None and record_ref("acme") is None


def test_the_json_search_counts_the_findings_too(client, register):
    body = client.get("/api/v1/entities?q=acme").get_json()
    assert body["counts"] == {"entity": 1, "record": 1}
    assert client.get("/api/v1/entities").get_json()["counts"]["record"] is None


def test_a_finding_published_through_the_api_is_found_from_the_home_search_box(db, client):
    from portal.services.access import Actor
    from portal.services.accounts import create_token, user_by_email
    from tests.factories import make_user

    with db.writing() as session:
        make_agency(session)
        make_entity(session, "Initech Ltd")
        make_user(session, "reg@ico.example", "regulator", agency="ico")
        token = create_token(session, Actor.cli(), user_by_email(session, "reg@ico.example"))
    home = client.get("/").get_data(as_text=True)
    assert 'action="/search"' in home
    created = client.post(
        "/api/v1/records",
        json={
            "entity_slug": "initech-ltd",
            "category": "data_protection",
            "severity": "serious",
            "title": "Payroll data emailed to the wrong staff",
            "decided_on": "2026-11-01",
            "publish": True,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201
    # The next search catches the index up from the change log: no waiting, no reindex.
    html = client.get("/search?q=initech+payroll").get_data(as_text=True)
    assert " ".join(_summary(html)).startswith("0 organisations and officials · 1 finding")
    assert "Payroll data emailed to the wrong staff" in _text(html)
    both = client.get("/search?q=initech").get_data(as_text=True)
    assert " ".join(_summary(both)).startswith("1 organisation or official · 1 finding")
    assert 'href="/entities/initech-ltd"' in both
    assert "Payroll data emailed to the wrong staff" in _text(both)


def _text(html):
    return re.sub(r"<[^>]+>", "", html)


def test_typeahead_offers_a_finding_by_its_reference(client, register):
    ref = register["ref"]
    html = client.get("/search/suggest", query_string={"q": ref.lower()}).get_data(as_text=True)
    assert (
        f'<a href="/records/{ref}">Finding {ref}: Customer files shredded without a log</a>' in html
    )
    assert f"Finding {ref} matches." in html
    names = client.get("/search/suggest", query_string={"q": "acm"}).get_data(as_text=True)
    assert "Finding" not in names and "Acme Widgets Ltd" in names
