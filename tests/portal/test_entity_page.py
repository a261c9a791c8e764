"""The entity profile: who it is, its flags, its records by whether they count, and replies."""

from __future__ import annotations

import re
from datetime import date, timedelta

import scoring
from portal.models import Entity
from portal.services.appeals import file_appeal
from portal.services.due_process import publish_response
from tests.factories import make_agency, make_entity, make_record
from tests.portal.test_due_process import _record, case  # noqa: F401 - the fixture


def _section(html: str, heading: str) -> str:
    """The text under an <h3> heading, up to the next heading or the end of the section."""
    match = re.search(rf"<h3>{heading} \(\d+\)</h3>(.*?)(?=<h3>|</section>)", html, re.S)
    assert match, f"no {heading!r} group"
    return match.group(1)


def test_records_are_grouped_by_whether_they_count_with_replies_beneath(client, db, case):  # noqa: F811
    with db.writing() as session:
        agency = make_agency(session, "ofcom", name="Ofcom", categories=["data_protection"])
        entity = session.get(Entity, case["entity"])
        long_ago = (date.today() - timedelta(days=365 * 4)).isoformat()
        make_record(session, agency, entity, title="Old cookie banner", decided_on=long_ago)
        make_record(session, agency, entity, title="Unsolicited texts")
        appealed = _record(session, case)
        publish_response(session, case["rep"], appealed, "We reported it within the hour.")
        file_appeal(session, case["rep"], appealed, "The breach was a false alarm.")
    html = client.get("/entities/acme-widgets-ltd").get_data(as_text=True)
    assert "Unsolicited texts" in _section(html, "Counting")
    under_appeal = _section(html, "Under appeal")
    assert "Breach not reported in time" in under_appeal
    assert "Reply from Acme Widgets Ltd:</strong> We reported it within the hour." in under_appeal
    assert "Old cookie banner" in _section(html, "No longer counting")
    assert "by Ofcom" in html and "by Information Commissioner" in html


def test_a_group_and_an_official_show_the_names_they_belong_to(client, db):
    with db.writing() as session:
        make_entity(session, name="Contoso Holdings plc", slug="contoso-holdings")
        make_entity(session, name="Contoso Retail Ltd", parent_slug="contoso-holdings")
        make_entity(session, name="Contoso Bank Ltd", parent_slug="contoso-holdings")
        make_entity(session, name="Ministry of Works", kind="government_body", slug="works")
        make_entity(
            session,
            name="Jane Example",
            kind="official",
            role_title="Permanent Secretary",
            body_slug="works",
            term_start="2021-04-01",
        )
    child = client.get("/entities/contoso-retail-ltd").get_data(as_text=True)
    assert (
        '<dt>Part of</dt><dd><a href="/entities/contoso-holdings">Contoso Holdings plc</a>' in child
    )
    official = client.get("/entities/jane-example").get_data(as_text=True)
    assert 'Permanent Secretary, <a href="/entities/works">Ministry of Works</a>' in official
    assert '<time datetime="2021-04-01">1 April 2021</time> to present' in official
    parent = client.get("/entities/contoso-holdings").get_data(as_text=True)
    assert "its 2 subsidiaries" in parent
    assert parent.index("Contoso Bank Ltd") < parent.index("Contoso Retail Ltd")


def test_trusted_and_watchlist_flags_say_the_rulebook_thresholds(client, db):
    rulebook = scoring.default_rulebooks().select("GB", date.today())
    with db.writing() as session:
        agency = make_agency(session)
        good = make_entity(session, name="Good Neighbour Ltd")
        make_record(session, agency, good, nature="commendation", category="certification",
                    severity="severe", title="Certified for data care")  # fmt: skip
        bad = make_entity(session, name="Repeat Offender Ltd")
        for n in range(6):
            make_record(session, agency, bad, severity="severe", title=f"Breach {n}")
    html = client.get("/entities/good-neighbour-ltd").get_data(as_text=True)
    trusted = (
        f"Trusted: score of {rulebook.trusted_min:g} or more and no counting violation in "
        f"{rulebook.trusted_clean_years} years"
    )
    assert trusted in html and "Watchlist" not in html
    html = client.get("/entities/repeat-offender-ltd").get_data(as_text=True)
    assert "Watchlist: persistent serious violations" in html and "Trusted:" not in html
    band = re.search(r'class="band band-(\w)"', html)
    assert band and band.group(1) in rulebook.watchlist_bands


def test_a_page_without_records_says_so_and_offers_the_feed(client, db):
    with db.writing() as session:
        make_entity(session, name="Clean Ltd")
    html = client.get("/entities/clean-ltd").get_data(as_text=True)
    notice = re.search(r'<div class="notice[^"]*" role="status">(.*?)</div>', html, re.S)
    assert notice and "No published record about this entity." in notice.group(1)
    assert 'type="application/atom+xml"' in html and 'href="/entities/clean-ltd/feed.atom"' in html


def test_the_score_history_is_an_accessible_chart_with_its_table(client, db):
    """Five years: the baseline before the finding, the deduction after, today's score last."""
    decided = date.today() - timedelta(days=400)
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session)
        make_record(session, agency, entity, severity="serious", decided_on=decided.isoformat())
    html = client.get(f"/entities/{entity.slug}").get_data(as_text=True)
    svg = re.search(r'<svg [^>]*role="img"><title>([^<]+)</title>(.*?)</svg>', html, re.S)
    assert svg and entity.name in svg.group(1)
    points = re.search(r'<polyline points="([^"]+)"', svg.group(2))
    assert points and len(points.group(1).split()) > 50  # a point a month for five years
    table = re.search(r"<caption>Score at the start of each year, and today</caption>(.*?)</table>",
                      html, re.S)  # fmt: skip
    rows = re.findall(r'<time datetime="([\d-]+)">.*?<td class="num">([\d.]+)</td>', table.group(1))
    assert len(rows) >= 5
    score = re.search(r'<span class="score-number">([\d.]+)</span>', html).group(1)
    assert rows[-1][1] == score and float(score) < 100  # today, after the deduction
    before = [value for day, value in rows if date.fromisoformat(day) < decided]
    assert before and set(before) == {"100.00"}  # the baseline, before the finding
