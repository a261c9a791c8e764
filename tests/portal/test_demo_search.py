"""Search on the demo register, through the JSON API and the search page, as a visitor uses it."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlmodel import select

from portal.models import Entity, Record
from portal.services.public import records_in_view
from search.names import fold
from tests.conftest import sqlite_only
from tests.portal.test_exports import demo_app

pytestmark = sqlite_only  # the demo is loaded into SQLite (the PostgreSQL lane loads its own)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo register with an in-memory index, loaded once."""
    app = demo_app(tmp_path_factory.mktemp("demo-search"), entities=300, seed=11)
    index, deadline = app.extensions["portal.search"], time.monotonic() + 120
    while not index.refresh():  # the change log is caught up in the background meanwhile
        assert time.monotonic() < deadline, "the index never caught up with the demo"
        time.sleep(0.05)
    yield app
    app.extensions["portal.search"].close()
    app.extensions["portal.db"].dispose()


def _entities(app):
    with app.extensions["portal.db"].session() as session:
        return session.exec(select(Entity).where(Entity.merged_into_id.is_(None))).all()


def _plain(name: str) -> str:
    """A name as people type it: no accents, no punctuation, lower case."""
    return " ".join("".join(c if c.isalnum() else " " for c in fold(name)).split())


def test_every_demo_name_typed_plainly_is_found_on_the_first_page(demo):
    client = demo.test_client()
    for entity in _entities(demo)[::7]:
        body = client.get("/api/v1/entities", query_string={"q": _plain(entity.name)}).get_json()
        assert entity.slug in [item["slug"] for item in body["items"]], entity.name


def test_demo_registration_numbers_find_their_entity_first(demo):
    client = demo.test_client()
    numbered = [e for e in _entities(demo) if e.registration_id][::5]
    assert numbered
    for entity in numbered:
        body = client.get("/api/v1/entities", query_string={"q": entity.registration_id})
        assert body.get_json()["items"][0]["slug"] == entity.slug, entity.registration_id


def test_demo_facets_count_the_register(demo):
    # Officials whose records have left public view are not in the register's search.
    entities = [e for e in _entities(demo) if records_in_view(e)]
    assert len(entities) < len(_entities(demo))  # the demo has some
    body = demo.test_client().get("/api/v1/entities").get_json()
    assert body["facets"]["band"] == dict(Counter(e.band for e in entities if e.band))
    assert body["facets"]["kind"] == dict(Counter(str(e.kind) for e in entities))


def test_demo_findings_are_found_by_a_word_of_their_title_with_filters(demo):
    with demo.extensions["portal.db"].session() as session:
        record = session.exec(select(Record).where(Record.status == "published")).first()
    word = max(record.title.split(), key=len)
    page = demo.test_client().get(
        "/search", query_string={"type": "record", "q": word, "category": record.category}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'href="/records/{record.ref}"' in html


def test_the_rebuild_source_keeps_its_promise_of_unique_documents(demo):
    """Engines skip tracking uids for `all_documents` (400 MB at 1,000,000 entities)."""
    from portal.services.search.documents import all_documents
    from search.documents import uid_of

    with demo.extensions["portal.db"].session() as session:
        docs = all_documents(session)
        uids = [uid_of(d) for d in docs]
    assert docs.unique and len(uids) == len(set(uids)) > 300
