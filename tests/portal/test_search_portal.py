"""Search in the portal: current on every machine, rebuilt safely, safe for any input."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from portal import create_app
from portal.models import Entity
from portal.services.access import Actor
from portal.services.records import record_by_ref, withdraw_record
from tests.factories import make_agency, make_entity, make_record, statements


def _index_app(app, data_dir):
    """A second app process's view: same database, its own index directory."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": app.config["DATABASE_URL"],
        }
    )


def _close(app):
    app.extensions["portal.search"].close()
    app.extensions["portal.db"].dispose()


def test_a_published_record_is_found_at_once(client, db):
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session, name="Société Générale S.A.")
    assert client.get("/api/v1/entities?q=societe").get_json()["total"] == 1
    with db.writing() as session:
        make_record(session, agency, entity, title="Unencrypted backups lost in transit")
    page = client.get("/search?type=record&q=backups").get_data(as_text=True)
    assert "Unencrypted" in page and "1 result" in page


def test_a_withdrawn_record_leaves_the_index(client, db):
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session)
        ref = make_record(session, agency, entity, title="Mislaid archive boxes").ref
    assert "Mislaid" in client.get("/search?type=record&q=archive").get_data(as_text=True)
    with db.writing() as session:
        withdraw_record(session, Actor.cli(), record_by_ref(session, ref), "Issued in error.")
    assert "Mislaid" not in client.get("/search?type=record&q=archive").get_data(as_text=True)


def test_two_instances_with_their_own_indexes_share_one_database(app, db, tmp_path):
    first, second = _index_app(app, tmp_path / "one"), _index_app(app, tmp_path / "two")
    try:
        with db.writing() as session:
            agency = make_agency(session)
            entity = make_entity(session, name="Vodafone España, S.A.U.")
        one, two = first.test_client(), second.test_client()
        assert one.get("/api/v1/entities?q=vodafone").get_json()["total"] == 1
        assert two.get("/api/v1/entities?q=vodafone").get_json()["total"] == 1
        with db.writing() as session:
            make_record(session, agency, entity, title="Calls made after an objection")
        # Written to the shared database; the second finds it on its next query. (The same
        # across processes, through the first's write API: tests/portal/test_serve.py.)
        assert "Calls made" in two.get("/search?type=record&q=objection").get_data(as_text=True)
        assert (tmp_path / "two" / "index").exists()
    finally:
        _close(first)
        _close(second)


def test_reindex_rebuilds_and_a_deleted_index_comes_back(app, db, tmp_path):
    import shutil

    from click.testing import CliRunner

    from portal.cli import cli

    with db.writing() as session:
        make_entity(session, name="Deutsche Wohnen SE", jurisdiction="DE")
    env = {"PORTAL_DATA_DIR": str(tmp_path / "node"), "DATABASE_URL": app.config["DATABASE_URL"]}
    result = CliRunner().invoke(cli, ["search", "reindex"], env=env)
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt: 1 documents" in result.output
    shutil.rmtree(tmp_path / "node" / "index")
    node = _index_app(app, tmp_path / "node")
    try:
        found = node.test_client().get("/api/v1/entities?q=deutsche wohnen").get_json()
        assert found["total"] == 1
    finally:
        _close(node)


@pytest.mark.parametrize(
    "text",
    [
        '"unclosed',
        "AND OR NOT",
        "*",
        "name:acme",
        "((((",
        "🦄 acme",
        "acme\x00",
        "\u202eacme",
        "a" * 10_000,
        "*acme",
        "x" * 201,
    ],
)
def test_any_input_gets_results_or_a_clear_message(client, db, text):
    with db.writing() as session:
        make_entity(session, name="Acme Widgets Ltd")
    page = client.get("/search", query_string={"q": text})
    assert page.status_code in (200, 400)
    html = page.get_data(as_text=True)
    assert "Traceback" not in html
    if page.status_code == 200:
        # The default search counts both kinds: "N organisations and officials · M findings".
        assert re.search(
            r'class="results-summary"[^>]*>\s*<a [^>]*>[\d,]+ organisations? (and|or) officials?'
            r"</a> ·\s*<a [^>]*>[\d,]+ findings?</a>",
            html,
        )
    else:
        assert "notice-error" in html
    api = client.get("/api/v1/entities", query_string={"q": text})
    assert api.status_code in (200, 400)
    if api.status_code == 400:
        assert api.get_json()["error"]["message"]


def test_a_query_over_200_characters_is_refused_with_a_message(client):
    page = client.get("/search", query_string={"q": "x" * 201})
    assert page.status_code == 400
    assert "200" in page.get_data(as_text=True)


def test_htmx_gets_only_the_results_partial(client, db):
    with db.writing() as session:
        make_entity(session, name="Acme Widgets Ltd")
    full = client.get("/search?q=acme").get_data(as_text=True)
    partial = client.get("/search?q=acme", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" in full and 'id="search-results"' in full
    assert "<html" not in partial and "Acme" in partial


def test_facets_narrow_the_results(client, db):
    with db.writing() as session:
        make_entity(session, name="Acme Widgets Ltd")
        make_entity(session, name="Acme Foods GmbH", jurisdiction="DE")
        make_entity(session, name="Acme Council", kind="government_body")
    body = client.get("/api/v1/entities?q=acme").get_json()
    assert body["total"] == 3
    assert body["facets"]["jurisdiction"] == {"GB": 2, "DE": 1}
    narrowed = client.get("/api/v1/entities?q=acme&jurisdiction=DE").get_json()
    assert [i["name"] for i in narrowed["items"]] == ["Acme Foods GmbH"]
    kinds = client.get("/api/v1/entities?q=acme&kind=government_body").get_json()
    assert kinds["total"] == 1
    page = client.get("/search?q=acme&kind=government_body").get_data(as_text=True)
    assert "Council</a>" in page and "Foods" not in page


def test_typeahead_suggests_names_from_the_first_letters(client, db):
    with db.writing() as session:
        make_entity(session, name="Vodafone España, S.A.U.", jurisdiction="ES")
    html = client.get("/search/suggest?q=vodaf").get_data(as_text=True)
    assert 'href="/entities/vodafone-espana-s-a-u"' in html
    items = client.get("/api/v1/suggest?q=voda").get_json()["items"]
    assert items[0]["key"] == "vodafone-espana-s-a-u"
    assert "<li>" not in client.get("/search/suggest?q=").get_data(as_text=True)
    assert "1 name matches" in html and ">Spain</span>" in html


def test_stored_scores_are_searchable_facets(client, db):
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session)
        for _ in range(4):
            make_record(session, agency, entity, severity="severe")
    with db.session() as session:
        band = session.exec(select(Entity.band)).one()
    body = client.get(f"/api/v1/entities?band={band}").get_json()
    assert body["total"] == 1 and body["items"][0]["band"] == band


def test_a_search_just_after_another_does_not_ask_the_database_again(client, db, monkeypatch):
    """Back-to-back searches on a current index skip the change-log check (no SQL at all).

    The window is widened so that a slow machine cannot close it between the two requests;
    the next test checks that the check comes back once it is over.
    """
    monkeypatch.setattr("portal.services.search.index.HEAD_CHECK_S", 60.0)
    with db.writing() as session:
        make_entity(session, name="Contoso Pharmaceuticals Ltd")
    assert client.get("/api/v1/entities?q=contoso").get_json()["total"] == 1
    assert statements(db, lambda: client.get("/api/v1/entities?q=contoso")) == []


def test_the_search_page_names_agencies_without_asking_the_database_each_time(
    client, db, monkeypatch
):
    """Agency facets show names; once read, a repeat search page runs no SQL at all."""
    monkeypatch.setattr("portal.services.search.index.HEAD_CHECK_S", 60.0)
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session)
        make_record(session, agency, entity, title="Unlawful direct marketing calls")
    page = "/search?type=record&q=marketing"
    assert "Information Commissioner&#39;s Office" in client.get(page).get_data(as_text=True)
    assert statements(db, lambda: client.get(page)) == []
    with db.writing() as session:  # an agency added later is named too, not shown by its slug
        other = make_agency(session, "fca", name="Financial Conduct Authority")
        make_record(
            session, other, entity, title="Misleading marketing of loans", category="transparency"
        )
    html = client.get(page).get_data(as_text=True)
    assert "Financial Conduct Authority" in html and ">fca<" not in html.replace(" ", "")


def test_once_the_window_is_over_a_search_asks_the_database_again(client, db, monkeypatch):
    monkeypatch.setattr("portal.services.search.index.HEAD_CHECK_S", 0.0)
    with db.writing() as session:
        make_entity(session, name="Contoso Pharmaceuticals Ltd")
    assert client.get("/api/v1/entities?q=contoso").get_json()["total"] == 1
    asked = statements(db, lambda: client.get("/api/v1/entities?q=contoso"))
    assert any("auditevent" in sql for sql in asked)


def test_a_change_written_by_another_process_is_found_once_the_window_is_over(
    client, db, monkeypatch
):
    """A write that bypasses this process's writing sessions (as another machine's would).

    Within the window the process trusts its last check; once the window is over (a quarter
    of a second in production; over at once here), the next search finds the change.
    """
    from sqlmodel import Session

    monkeypatch.setattr("portal.services.search.index.HEAD_CHECK_S", 60.0)
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session, name="Fabrikam Logistics Ltd")
    assert client.get("/api/v1/entities?q=fabrikam").get_json()["total"] == 1
    with Session(db.engine) as session, session.begin():  # not db.writing(): "elsewhere"
        make_record(session, agency, entity, title="Tachograph records falsified")
    assert "Tachograph" not in client.get("/search?type=record&q=tachograph").get_data(as_text=True)
    monkeypatch.setattr("portal.services.search.index.HEAD_CHECK_S", 0.0)
    index = client.application.extensions["portal.search"]
    index._current_until = 0.0  # the window of the last check is over
    assert "Tachograph" in client.get("/search?type=record&q=tachograph").get_data(as_text=True)


def test_a_page_and_its_htmx_partial_are_cached_apart(client, db):
    """They share a URL: without Vary: HX-Request, Back would show the bare partial."""
    with db.writing() as session:
        make_entity(session, name="Acme Widgets Ltd")
    page = client.get("/search?q=acme")
    partial = client.get("/search?q=acme", headers={"HX-Request": "true"})
    assert "<html" in page.get_data(as_text=True) and "<html" not in partial.get_data(as_text=True)
    for response in (page, partial):
        assert {"Cookie", "HX-Request"} <= set(response.vary)


def test_every_facet_value_can_be_chosen_and_a_chosen_one_stays_in_view(client, db):
    with db.writing() as session:
        for n in range(15):
            make_entity(session, name=f"Acme Branch {n:02d}", sector=f"sector_{n:02d}")
    html = client.get("/search?q=acme").get_data(as_text=True)
    offered = re.findall(r'name="sector" value="(sector_\d+)"', html)
    assert sorted(offered) == [f"sector_{n:02d}" for n in range(15)]
    assert "3 more</summary>" in html and '<details class="facet-more">' in html
    # A value chosen from the hidden part is checked and its part opened, so it can be unticked.
    last = sorted(offered)[-1]
    html = client.get(f"/search?q=acme&sector={last}").get_data(as_text=True)
    assert f'value="{last}" checked' in html


def test_did_you_mean_keeps_the_filters_and_the_sort(client, db):
    with db.writing() as session:
        make_entity(session, name="Contoso Pharmaceuticals Ltd", sector="health")
        make_entity(session, name="Contoso Pharmaceuticals Holdings", sector="finance")
    html = client.get("/search?q=contozo&sector=health&sort=score&page=1").get_data(as_text=True)
    link = re.search(r'Did you mean <a href="([^"]+)">contoso</a>', html)
    assert link, html
    target = link.group(1).replace("&amp;", "&")
    assert "q=contoso" in target and "sector=health" in target and "sort=score" in target
    assert "page=" not in target
    followed = client.get(target).get_data(as_text=True)
    assert "1 organisation or official</a>" in followed
    assert "/entities/contoso-pharmaceuticals-ltd" in followed
    assert 'value="score" selected' in followed
