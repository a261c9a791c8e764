"""The home page and error pages as a visitor meets them."""

from __future__ import annotations

from tests.factories import make_agency, make_entity, make_record, statements


def test_home_shows_counts_and_the_newest_findings(client, db):
    with db.writing() as session:
        agency = make_agency(session)
        for name in ("Acme Widgets Ltd", "Société Générale S.A."):
            entity = make_entity(session, name=name)
            make_record(session, agency, entity, title=f"Finding about {name}")
        make_record(session, agency, entity, publish=False, title="Unpublished draft")
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Finding about Société Générale S.A." in html
    assert "Unpublished draft" not in html
    assert 'href="/entities/societe-generale-s-a"' in html


def test_home_counts_the_register_by_kind_and_by_band(client, db):
    import re

    from sqlmodel import select

    from portal.models import Entity

    with db.writing() as session:
        agency = make_agency(session)
        make_entity(session, name="Clean Ltd")
        make_entity(session, name="Ministry of Works", kind="government_body")
        offender = make_entity(session, name="Repeat Offender Ltd")
        for n in range(4):
            make_record(session, agency, offender, severity="severe", title=f"Breach {n}")
    with db.session() as session:
        bands = [e.band for e in session.exec(select(Entity)) if e.band]
    html = client.get("/").get_data(as_text=True)
    card = '<span class="count-card-value">{}</span> <span class="count-card-label">{}</span>'
    assert card.format(2, "Businesses") in html and card.format(1, "Government bodies") in html
    rows = re.findall(r'band-(\w)".*?</td><td class="num">([\d,]+)</td>', html)
    assert sorted(rows) == sorted((b, str(bands.count(b))) for b in set(bands))
    assert len(set(bands)) == 2  # the offender is in a band of its own


def test_home_names_the_bands_as_the_rulebook_in_force_does(client, db):
    """Band labels are read from the rulebook (best band first), not kept in a copy."""
    from datetime import date

    import scoring
    from portal.services.search.labels import band_labels

    rulebook = scoring.default_rulebooks().select("default", date.today())
    assert list(band_labels().items()) == [(b.code, b.label) for b in reversed(rulebook.bands)]
    assert list(band_labels())[0] == rulebook.band_for(rulebook.ceiling).code
    with db.writing() as session:
        make_entity(session, name="Clean Ltd")
    html = client.get("/").get_data(as_text=True)
    label = band_labels()[rulebook.band_for(rulebook.baseline).code]
    assert f'<span class="band-label">{label}</span>' in html


def test_home_counts_are_kept_while_nothing_changes_and_follow_a_change(client, db, monkeypatch):
    """The register's counts read whole tables: recounted only after a change."""
    import portal.services.home as home

    with db.writing() as session:
        make_entity(session, name="Acme Widgets Ltd")
    entities = '<span class="count-card-value">{}</span> <span class="count-card-label">Organ'
    assert entities.format(1) in client.get("/").get_data(as_text=True)
    assert not [sql for sql in statements(db, lambda: client.get("/")) if "count(" in sql.lower()]
    monkeypatch.setattr(home, "COUNTS_FRESH_S", 0.0)
    with db.writing() as session:
        make_entity(session, name="Contoso Ltd")
    assert entities.format(2) in client.get("/").get_data(as_text=True)


def test_home_of_an_empty_register_says_so(client):
    html = client.get("/").get_data(as_text=True)
    assert "No findings have been published yet." in html


def test_unknown_page_is_a_helpful_404_not_a_traceback(client):
    page = client.get("/no/such/page")
    html = page.get_data(as_text=True)
    assert page.status_code == 404
    assert "Not Found" in html and "Traceback" not in html
    assert page.headers["Content-Type"].startswith("text/html")


def test_api_errors_are_json(client):
    page = client.get("/api/v1/nothing-here")
    assert page.status_code == 404
    assert page.get_json()["error"]["code"] == "not_found"


def test_pages_carry_security_headers(client):
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_htmx_is_vendored_with_its_licence(client):
    html = client.get("/").get_data(as_text=True)
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert "unpkg" not in html and "cdn" not in html.lower()
    with client.get("/static/vendor/htmx/htmx.min.js") as script:
        assert script.status_code == 200 and b"htmx" in script.data
    with client.get("/static/vendor/htmx/LICENSE") as licence:
        assert licence.status_code == 200


def test_public_pages_are_cacheable_and_personal_ones_never_stored(client, db):
    from tests.factories import make_agency as agency
    from tests.factories import make_user, sign_in

    with db.writing() as session:
        agency(session)
        make_user(session, "reg@ico.example", "regulator", agency="ico")
    assert client.get("/").headers["Cache-Control"] == "public, max-age=60"
    assert client.get("/workspace/sign-in").headers["Cache-Control"] == "no-store"
    sign_in(client, "reg@ico.example")
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert "Cookie" in client.get("/").headers["Vary"]
