"""Measures in force on real rows: stored flags, lifting with four eyes, one case counted once."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import select

from portal.errors import Conflict, PermissionDenied, ValidationFailed
from portal.models import AuditEvent, Entity, Record
from portal.services.access import Actor
from portal.services.history import score_as_of
from portal.services.measures import confirm_lift, lift_measure
from tests.factories import make_agency, make_entity, make_record, make_user

pytestmark = pytest.mark.db

PROCUREMENT = ["public_procurement"]
TODAY = date.today()


def _debar(session, agency, entity, **kwargs):
    """A serious procurement debarment decided nine years ago, in force until lifted."""
    values = {
        "category": "public_procurement",
        "severity": "serious",
        "title": "Collusive practice in a road contract",
        "decided_on": (TODAY - timedelta(days=9 * 365)).isoformat(),
        "measure": "debarment",
    }
    return make_record(session, agency, entity, **(values | kwargs))


@pytest.fixture
def bank(db):
    """A development bank that requires four eyes, two of its regulators, and a firm."""
    with db.writing() as session:
        agency = make_agency(
            session,
            "wb",
            name="World Bank Sanctions Board",
            categories=PROCUREMENT,
            requires_second_approval=True,
        )
        firm = make_entity(session, "Todini Costruzioni Generali SpA", jurisdiction="GB")
        users = [
            make_user(session, f"{n}@wb.example", "regulator", agency="wb") for n in ("one", "two")
        ]
        record = _debar(session, agency, firm)
        actors = [Actor(f"user:{u.id}", u.role, u.id, agency_id=agency.id) for u in users]
        return {"agency_id": agency.id, "entity_id": firm.id, "ref": record.ref, "actors": actors}


def _entity(db, entity_id):
    with db.session() as session:
        return session.get(Entity, entity_id)


def _record(session, ref):
    return session.exec(select(Record).where(Record.ref == ref)).one()


def test_a_debarment_in_force_for_nine_years_flags_the_entity_and_holds_its_band(db, bank):
    firm = _entity(db, bank["entity_id"])
    assert firm.under_sanction and firm.band == "D" and firm.score == 59.0


def test_a_lift_needs_a_second_regulator_and_then_stops_the_measure(db, bank):
    one, two = bank["actors"]
    with db.writing() as session:
        lift_measure(session, one, _record(session, bank["ref"]), TODAY, "Debarment overturned")
    assert _entity(db, bank["entity_id"]).under_sanction, "a proposal alone changes nothing"
    with db.writing() as session, pytest.raises(PermissionDenied):
        confirm_lift(session, one, _record(session, bank["ref"]))
    with db.writing() as session:
        confirm_lift(session, two, _record(session, bank["ref"]))
    firm = _entity(db, bank["entity_id"])
    assert not firm.under_sanction and firm.score == 100.0
    with db.session() as session:
        record = _record(session, bank["ref"])
        assert (record.lifted_on, record.lifted_reason) == (TODAY, "Debarment overturned")
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.object_id == bank["ref"])
        ).all()
        replayed = score_as_of(session, session.get(Entity, bank["entity_id"]), TODAY)
    assert actions[-2:] == ["record.lift_proposed", "record.lifted"]
    # The change log's replay of the record agrees: lifted today, so it no longer counts.
    assert not replayed.under_sanction and replayed.contributions[0].state == "expired"


def test_another_agency_cannot_lift_and_a_lift_needs_a_reason_and_a_date_in_range(db, bank):
    with db.writing() as session:
        make_agency(session, "adb", name="Asian Development Bank", categories=PROCUREMENT)
        other = make_user(session, "x@adb.example", "regulator", agency="adb")
        outsider = Actor(f"user:{other.id}", other.role, other.id, agency_id=other.agency_id)
    one = bank["actors"][0]
    with db.writing() as session:
        record = _record(session, bank["ref"])
        with pytest.raises(PermissionDenied):
            lift_measure(session, outsider, record, TODAY, "Not ours to lift")
        with pytest.raises(ValidationFailed):
            lift_measure(session, one, record, TODAY, "   ")
        with pytest.raises(ValidationFailed):
            lift_measure(session, one, record, TODAY + timedelta(days=1), "Tomorrow")
    with db.writing() as session:
        firm = session.get(Entity, bank["entity_id"])
        plain = make_record(session, _agency(session), firm, category="public_procurement")
        with pytest.raises(Conflict):
            lift_measure(session, Actor.cli("t"), plain, TODAY, "No measure on it")


def _agency(session):
    from portal.models import Agency

    return session.exec(select(Agency).where(Agency.slug == "wb")).one()


def test_three_agencies_publishing_one_case_move_the_score_once(db, bank):
    with db.writing() as session:
        firm = session.get(Entity, bank["entity_id"])
        origin = _record(session, bank["ref"])
        for slug, name in (("adb", "Asian Development Bank"), ("afdb", "African Development Bank")):
            agency = make_agency(session, slug, name=name, categories=PROCUREMENT)
            _debar(session, agency, firm, case_record=origin.ref)
    with db.session() as session:
        keys = session.exec(select(Record.case_key).where(Record.entity_id == bank["entity_id"]))
        assert set(keys.all()) == {None, f"ref:{bank['ref']}"}
        result = score_as_of(session, session.get(Entity, bank["entity_id"]), TODAY)
    states = sorted(c.state for c in result.contributions)
    assert states == ["counting", "same_case", "same_case"]
    assert result.deductions == 12.0


def test_a_period_that_runs_backwards_or_lacks_a_measure_is_refused(db, bank):
    with db.writing() as session:
        agency = _agency(session)
        firm = session.get(Entity, bank["entity_id"])
        with pytest.raises(ValidationFailed) as backwards:
            _debar(session, agency, firm, in_force_from="2024-05-01", in_force_until="2024-01-01")
        with pytest.raises(ValidationFailed) as no_measure:
            _debar(session, agency, firm, measure="", in_force_until="2024-01-01")
    assert "in_force_until" in backwards.value.details
    assert "measure" in no_measure.value.details


def test_the_entity_page_says_debarred_first_and_shows_the_other_agencies_under_it(
    db, bank, client
):
    with db.writing() as session:
        firm = session.get(Entity, bank["entity_id"])
        origin = _record(session, bank["ref"])
        adb = make_agency(session, "adb", name="Asian Development Bank", categories=PROCUREMENT)
        other = _debar(session, adb, firm, case_record=origin.ref)
        slug, other_ref = firm.slug, other.ref
    html = client.get(f"/entities/{slug}").get_data(as_text=True)
    notice = html.index("Under sanction")
    assert notice < html.index('id="score-heading"')
    assert "Debarred</strong> by World Bank Sanctions Board" in html[notice:]
    assert "in force until lifted" in html[notice : html.index('id="score-heading"')]
    assert "Good standing" not in html
    assert f'Also enforced by Asian Development Bank (<a href="/records/{other_ref}">' in html
    assert "Same case, counted once" in html and "While in force (until lifted)" in html


def test_the_methodology_explains_measures_with_a_worked_example(client):
    html = client.get("/methodology/").get_data(as_text=True)
    assert "Measures in force: debarments, suspensions, listings" in html
    example = html[html.index("Worked example: a firm under sanction") :]
    assert "Same case, counted once" in example and "held at most at 59.00" in example


def test_the_api_gives_the_sanction_and_the_case_and_conforms_to_its_document(
    app, db, bank, client
):
    import schemathesis

    from tests.portal.test_openapi import CHECKS

    with db.writing() as session:
        firm = session.get(Entity, bank["entity_id"])
        adb = make_agency(session, "adb", name="Asian Development Bank", categories=PROCUREMENT)
        other = _debar(session, adb, firm, case_record=bank["ref"], in_force_until="2099-12-31")
        slug, other_ref = firm.slug, other.ref
    body = client.get(f"/api/v1/entities/{slug}").get_json()
    assert body["score"]["under_sanction"] and body["score"]["sanction_capped"]
    labels = [(s["label"], s["until"]) for s in body["score"]["sanctions"]]
    assert labels == [("Debarred", None), ("Debarred", "2099-12-31")]
    record = client.get(f"/api/v1/records/{other_ref}").get_json()
    assert record["measure"] == "debarment" and record["in_force_now"] is True
    assert record["case"] == {"agency": None, "id": None, "record": bank["ref"]}
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for path, params in (
        ("/api/v1/entities/{slug}", {"slug": slug}),
        ("/api/v1/records/{ref}", {"ref": other_ref}),
        ("/api/v1/entities/{slug}/score", {"slug": slug}),
    ):
        loaded[path]["GET"].Case(path_parameters=params).call_and_validate(checks=CHECKS)


def test_the_followthemoney_export_gives_each_sanction_its_period_and_status(db, bank, client):
    from followthemoney import model

    with db.writing() as session:
        firm = session.get(Entity, bank["entity_id"])
        adb = make_agency(session, "adb", name="Asian Development Bank", categories=PROCUREMENT)
        ended = _debar(session, adb, firm, in_force_until="2020-06-30")
        one, two = bank["actors"]
        lift_measure(session, one, _record(session, bank["ref"]), TODAY, "Overturned on review")
    with db.writing() as session:
        confirm_lift(session, two, _record(session, bank["ref"]))
        ended_ref = ended.ref
    lines = client.get("/exports/entities.ftm.json").get_data(as_text=True).splitlines()
    sanctions = {}
    for line in lines:
        data = json.loads(line)
        after = model.get_proxy(data, cleaned=False).to_dict()["properties"]
        # followthemoney reads every value as written: nothing changed, nothing dropped.
        assert {k: sorted(v) for k, v in after.items()} == {
            k: sorted(v) for k, v in data["properties"].items()
        }
        if data["schema"] == "Sanction":
            sanctions[data["properties"]["recordId"][0]] = data["properties"]
    lifted, past = sanctions[bank["ref"]], sanctions[ended_ref]
    assert lifted["status"] == ["lifted: Overturned on review"]
    assert lifted["endDate"] == [TODAY.isoformat()]
    assert past["status"] == ["ended"] and past["endDate"] == ["2020-06-30"]
    assert past["startDate"] == [(TODAY - timedelta(days=9 * 365)).isoformat()]


def test_the_atom_feed_gives_the_period_and_the_lifting_with_its_reason(db, bank, client):
    one, two = bank["actors"]
    with db.writing() as session:
        lift_measure(session, one, _record(session, bank["ref"]), TODAY, "Overturned on review")
    with db.writing() as session:
        confirm_lift(session, two, _record(session, bank["ref"]))
    feed = client.get("/feed.atom").get_data(as_text=True)
    start = (TODAY - timedelta(days=9 * 365)).isoformat()
    assert f"Debarment in force from {start} until lifted." in feed
    assert "Measure lifted: Collusive practice in a road contract" in feed
    assert f"Debarment lifted by World Bank Sanctions Board on {TODAY.isoformat()}." in feed
    assert "Reason: Overturned on review" in feed


def _token(db, email):
    from portal.services.accounts import create_token, user_by_email

    with db.writing() as session:
        return create_token(session, Actor.cli(), user_by_email(session, email))


def test_the_write_api_lifts_with_four_eyes(db, bank, client):
    one, two = (
        {"Authorization": f"Bearer {_token(db, e)}"} for e in ("one@wb.example", "two@wb.example")
    )
    path = f"/api/v1/records/{bank['ref']}"
    body = {"lifted_on": TODAY.isoformat(), "reason": "Settled with the bank"}
    missing = client.post(f"{path}/lift", json={"lifted_on": TODAY.isoformat()}, headers=one)
    assert missing.status_code == 422 and missing.get_json()["error"]["details"]["reason"]
    proposed = client.post(f"{path}/lift", json=body, headers=one)
    assert proposed.status_code == 200 and proposed.get_json()["lifted_on"] is None
    assert client.post(f"{path}/confirm_lift", json={}, headers=one).status_code == 403
    confirmed = client.post(f"{path}/confirm_lift", json={}, headers=two)
    assert confirmed.status_code == 200
    assert confirmed.get_json()["lifted_on"] == TODAY.isoformat()
    assert confirmed.get_json()["in_force_now"] is False
    assert client.post(f"{path}/lift", json=body, headers=two).status_code == 409


def test_the_workspace_offers_the_lift_and_then_its_confirmation_without_javascript(
    db, bank, client
):
    from tests.factories import csrf_token, sign_in

    sign_in(client, "one@wb.example")
    page = client.get(f"/workspace/records/{bank['ref']}").get_data(as_text=True)
    assert "Lift the debarment" in page and 'name="lifted_on"' in page
    form = {
        "csrf_token": csrf_token(client, f"/workspace/records/{bank['ref']}"),
        "lifted_on": TODAY.isoformat(),
        "reason": "Debarment overturned",
    }
    answer = client.post(f"/workspace/records/{bank['ref']}/lift", data=form)
    assert answer.status_code == 302
    page = client.get(f"/workspace/records/{bank['ref']}").get_data(as_text=True)
    assert "waiting for a second regulator" in page and "Confirm the lift" in page


def test_search_says_under_sanction_and_filters_on_it(db, bank, client):
    with db.writing() as session:
        make_entity(session, "Todini Trading Ltd", jurisdiction="GB")
    html = client.get("/search?q=todini&type=entity").get_data(as_text=True)
    line = "Debarred by World Bank Sanctions Board since"
    assert f"<strong>Under sanction:</strong> {line}" in html
    assert "Under sanction now" in html and "Sanctions" in html
    only = client.get("/search?q=todini&type=entity&sanction=under_sanction").get_data(as_text=True)
    assert "1 result for" in only and 'href="/entities/todini-costruzioni-generali-spa"' in only
    assert 'href="/entities/todini-trading-ltd"' not in only
    suggested = client.get("/search/suggest?q=todini").get_data(as_text=True)
    assert line in suggested
    api = client.get("/api/v1/entities?q=todini&sanction=under_sanction").get_json()
    assert [i["name"] for i in api["items"]] == ["Todini Costruzioni Generali SpA"]
    assert api["items"][0]["sanction"].startswith(line)
    assert api["facets"]["sanction"] == {"under_sanction": 1}
