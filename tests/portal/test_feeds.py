"""Atom feeds from the change log: read by feedparser, honest about ended findings."""

from __future__ import annotations

import feedparser
import pytest

from portal.models import Role
from portal.services.access import Actor
from portal.services.appeals import file_appeal
from portal.services.audit import chain_head
from portal.services.records import correct_record, record_by_ref, withdraw_record
from tests.conftest import sqlite_only
from tests.factories import make_agency, make_entity, make_record, make_user
from tests.portal.test_exports import demo_app


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo register, loaded once for this module."""
    app = demo_app(tmp_path_factory.mktemp("feeds"), entities=200, seed=8)
    yield app
    app.extensions["portal.search"].close()
    app.extensions["portal.db"].dispose()


@sqlite_only
def test_feedparser_reads_every_feed_cleanly(demo):
    client = demo.test_client()
    slugs = client.get("/api/v1/entities?per_page=5&sort=score").get_json()["items"]
    agencies = client.get("/api/v1/agencies").get_json()["items"]
    paths = ["/feed.atom", *(agency["links"]["feed"] for agency in agencies)]
    paths += [f"/entities/{item['slug']}/feed.atom" for item in slugs]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith("application/atom+xml")
        feed = feedparser.parse(response.get_data())
        assert feed.bozo == 0, (path, feed.get("bozo_exception"))
        assert len(feed.entries) <= 50
    register = feedparser.parse(client.get("/feed.atom").get_data())
    assert len(register.entries) == 50
    assert all("/records/R-" in entry.link for entry in register.entries)


def _story(db):
    """A record published, corrected, appealed; another published then withdrawn."""
    with db.writing() as session:
        agency, entity = make_agency(session), make_entity(session)
        kept = make_record(session, agency, entity, title="Breach reported late")
        gone = make_record(session, agency, entity, title="An allegation withdrawn later")
        correct_record(session, Actor.cli(), kept, {"severity": "serious"}, "Misread.")
        user = make_user(session, "rep@acme.example", "representative", entity=entity.slug)
        rep = Actor(f"user:{user.id}", Role.REPRESENTATIVE, user.id, entity_id=entity.id)
        file_appeal(session, rep, kept, "It was reported in time.")
        withdraw_record(session, Actor.cli(), record_by_ref(session, gone.ref), "Wrong company.")
    return kept.ref, gone.ref


def test_entries_say_when_a_finding_was_corrected_appealed_or_withdrawn(client, db):
    kept, gone = _story(db)
    feed = feedparser.parse(client.get("/feed.atom").get_data())
    assert feed.bozo == 0
    terms = [entry.tags[0].term for entry in feed.entries]
    assert terms == [
        "record.withdrawn",
        "appeal.filed",
        "record.corrected",
        "record.published",
        "record.published",
    ]
    assert feed.entries[1].link.endswith(f"/records/{kept}")
    assert "severity from “moderate” to “serious”" in feed.entries[2].summary
    assert "Breach reported late" in feed.entries[4].title
    assert feed.entries[3].title == f"Published: record {gone} (Acme Widgets Ltd)"


def test_a_withdrawn_finding_never_repeats_its_allegation(client, db):
    _kept, gone = _story(db)
    for path in ("/feed.atom", "/entities/acme-widgets-ltd/feed.atom", "/agencies/ico/feed.atom"):
        text = client.get(path).get_data(as_text=True)
        assert f"record {gone}" in text
        assert "allegation withdrawn later" not in text


def test_the_feed_carries_the_change_log_head(client, db):
    _story(db)
    with db.session() as session:
        seq, digest = chain_head(session)
    feed = feedparser.parse(client.get("/feed.atom").get_data())
    assert f"seq {seq}" in feed.feed.subtitle and digest in feed.feed.subtitle
    related = [link for link in feed.feed.links if link.rel == "related"]
    assert digest in related[0].title


def test_feeds_answer_304_until_the_change_log_moves(client, db):
    kept, _gone = _story(db)
    etag = client.get("/entities/acme-widgets-ltd/feed.atom").headers["ETag"]
    headers = {"If-None-Match": etag}
    assert client.get("/entities/acme-widgets-ltd/feed.atom", headers=headers).status_code == 304
    with db.writing() as session:
        withdraw_record(session, Actor.cli(), record_by_ref(session, kept), "Settled.")
    assert client.get("/entities/acme-widgets-ltd/feed.atom", headers=headers).status_code == 200


def test_unknown_entities_and_agencies_have_no_feed(client, db):
    assert client.get("/entities/nobody/feed.atom").status_code == 404
    assert client.get("/agencies/nobody/feed.atom").status_code == 404


def test_officials_past_retention_leave_the_feeds(client, db):
    with db.writing() as session:
        agency = make_agency(session, "ombudsman", categories=["conduct"])
        body = make_entity(session, "Borough Council", kind="government_body")
        old = make_entity(
            session,
            "Pat Example",
            kind="official",
            role_title="Mayor",
            body_slug=body.slug,
            term_start="2001-01-01",
            term_end="2010-01-01",
        )
        make_record(session, agency, old, category="conduct", decided_on="2009-01-01")
    feed = feedparser.parse(client.get("/feed.atom").get_data())
    assert feed.bozo == 0 and feed.entries == []
    assert "Pat Example" not in client.get("/agencies/ombudsman/feed.atom").get_data(as_text=True)
