"""Due process end to end: claim, verification, reply, appeal and each decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from portal.errors import Conflict, PermissionDenied
from portal.models import Appeal, Entity, Notification, Record, RecordStatus, Response
from portal.services.access import Actor
from portal.services.appeals import decide_appeal, file_appeal
from portal.services.due_process import (
    decide_claim,
    decide_correction,
    hide_response,
    publish_response,
    register_representative,
    request_correction,
)
from portal.services.history import score_as_of
from tests.factories import (
    PASSWORD,
    csrf_token,
    make_agency,
    make_entity,
    make_record,
    make_user,
    sign_in,
)

ADMIN = Actor("user:admin", None, None, system=True)


def _actor(user):
    return Actor(f"user:{user.id}", user.role, user.id, user.agency_id, user.entity_id)


@pytest.fixture
def case(db):
    """A published finding by one regulator of an agency with two; a verified representative."""
    with db.writing() as session:
        agency = make_agency(session)
        make_agency(session, "cnil", name="CNIL", jurisdiction="FR", categories=["data_protection"])
        entity = make_entity(session)
        make_entity(session, name="Other Company Ltd")
        publisher = make_user(session, "pub@ico.example", "regulator", agency="ico")
        decider = make_user(session, "dec@ico.example", "regulator", agency="ico")
        foreign = make_user(session, "reg@cnil.example", "regulator", agency="cnil")
        record = make_record(session, agency, entity, actor=_actor(publisher), severity="serious")
        claim = register_representative(
            session,
            "rep@acme.example",
            PASSWORD,
            "acme-widgets-ltd",
            "I am its data protection officer.",
        )
        decide_claim(session, ADMIN, claim, True, "Confirmed with the company registry.")
        other_claim = register_representative(
            session, "rep@other.example", PASSWORD, "other-company-ltd", "Director."
        )
        decide_claim(session, ADMIN, other_claim, True, "Confirmed.")
        from portal.models import User

        rep = session.exec(select(User).where(User.email == "rep@acme.example")).one()
        other_rep = session.exec(select(User).where(User.email == "rep@other.example")).one()
    return {
        "ref": record.ref,
        "entity": entity.id,
        "rep": _actor(rep),
        "other_rep": _actor(other_rep),
        "publisher": _actor(publisher),
        "decider": _actor(decider),
        "foreign": _actor(foreign),
    }


def _record(session, case):
    return session.exec(select(Record).where(Record.ref == case["ref"])).one()


def _score(db, case):
    with db.session() as session:
        return session.get(Entity, case["entity"]).score


def _inbox(db, actor):
    with db.session() as session:
        return [
            n.message
            for n in session.exec(select(Notification).where(Notification.user_id == actor.user_id))
        ]


def _feed_titles(client):
    """The entity feed's entry titles, read by the ecosystem's own parser."""
    import feedparser

    parsed = feedparser.parse(client.get("/entities/acme-widgets-ltd/feed.atom").data)
    assert parsed.bozo == 0
    return [entry.title for entry in parsed.entries]


@pytest.mark.parametrize("outcome", ["dismissed", "granted", "amended"])
def test_reply_appeal_and_each_decision(client, db, case, outcome):
    assert _score(db, case) == 85.6  # GB: serious 12 x data protection 1.2
    with db.writing() as session:
        publish_response(session, case["rep"], _record(session, case), "We fixed it in a week.")
    assert "We fixed it in a week." in client.get(f"/records/{case['ref']}").get_data(as_text=True)
    with db.writing() as session:
        file_appeal(session, case["rep"], _record(session, case), "The breach was a false alarm.")
    assert _score(db, case) == 100.0  # under appeal: does not count until decided
    assert any("Appeal filed" in m for m in _inbox(db, case["decider"]))
    assert _feed_titles(client)[0].startswith("Appealed")
    page = client.get(f"/search?type=record&q={case['ref']}").get_data(as_text=True)
    with db.writing() as session:
        appeal = session.exec(select(Appeal)).one()
        decide_appeal(
            session,
            case["decider"],
            appeal,
            outcome,
            "Decided on the evidence.",
            {"severity": "minor"} if outcome == "amended" else None,
        )
    with db.session() as session:
        record = _record(session, case)
        entity = session.get(Entity, case["entity"])
        yesterday = score_as_of(session, entity, datetime.now(UTC).date() - timedelta(days=1))
    expected = {
        "dismissed": (RecordStatus.PUBLISHED, 85.6),
        "granted": (RecordStatus.OVERTURNED, 100.0),
        "amended": (RecordStatus.PUBLISHED, 97.6),
    }[outcome]  # minor: 2 x 1.2
    assert (record.status, _score(db, case)) == expected
    assert yesterday.value == 100.0  # the record was published today: not yet on the register
    assert any(outcome in m for m in _inbox(db, case["rep"]))
    latest = _feed_titles(client)[0]
    assert latest.startswith("Appeal decided")
    if outcome == "granted":
        assert "Breach not reported in time" not in latest  # an overturned finding is not repeated
    html = client.get(f"/records/{case['ref']}").get_data(as_text=True)
    assert "Appeal decided</strong>" in html or "Appeal decided" in html
    assert f"({outcome})" in html
    if outcome == "granted":
        assert "overturned on appeal" in html and "We fixed it" not in html
    found = client.get("/api/v1/entities?q=acme").get_json()["items"][0]
    assert found["score"] == expected[1]
    assert page  # the search page answered while the appeal was open


def test_appeal_after_the_window_is_refused(db, case):
    later = datetime.now(UTC) + timedelta(days=22)
    with (
        time_machine.travel(later, tick=False),
        pytest.raises(Conflict, match="window closed"),
        db.writing() as session,
    ):
        file_appeal(session, case["rep"], _record(session, case), "Too late.")


def test_a_second_open_appeal_is_refused(db, case):
    with db.writing() as session:
        file_appeal(session, case["rep"], _record(session, case), "First.")
    with pytest.raises(Conflict, match="already under appeal"), db.writing() as session:
        file_appeal(session, case["rep"], _record(session, case), "Second.")


def test_refusals_change_nothing(db, case):
    with db.writing() as session:
        file_appeal(session, case["rep"], _record(session, case), "Grounds.")
    refusals = [
        lambda s: file_appeal(s, case["other_rep"], _record(s, case), "Not mine."),
        lambda s: decide_appeal(
            s, case["publisher"], s.exec(select(Appeal)).one(), "granted", "Own."
        ),
        lambda s: decide_appeal(s, case["foreign"], s.exec(select(Appeal)).one(), "granted", "No."),
        lambda s: publish_response(s, case["other_rep"], _record(s, case), "Not mine."),
    ]
    for refusal in refusals:
        with pytest.raises(PermissionDenied), db.writing() as session:
            refusal(session)
    with db.session() as session:
        assert _record(session, case).status == RecordStatus.UNDER_APPEAL
        assert session.exec(select(Appeal)).one().status == "open"
        assert session.exec(select(Response)).all() == []


def test_only_the_agency_hides_a_reply_and_the_reason_is_public(client, db, case):
    with db.writing() as session:
        response = publish_response(session, case["rep"], _record(session, case), "Defamatory text")
    for wrong in (case["rep"], case["foreign"], case["other_rep"]):
        with pytest.raises(PermissionDenied), db.writing() as session:
            hide_response(session, wrong, session.get(Response, response.id), "No.")
    with db.writing() as session:
        hide_response(
            session,
            case["decider"],
            session.get(Response, response.id),
            "It names a private individual.",
        )
    html = client.get(f"/records/{case['ref']}").get_data(as_text=True)
    assert "Defamatory text" not in html
    assert "A reply was hidden by the agency" in html and "names a private individual" in html


def test_claims_and_corrections_are_decided_with_reasons(db, case):
    with db.writing() as session:
        claim = register_representative(
            session, "new@acme.example", PASSWORD, "acme-widgets-ltd", "Trust me."
        )
        decide_claim(session, ADMIN, claim, False, "No evidence that you work there.")
    with db.session() as session:
        from portal.models import User

        user = session.exec(select(User).where(User.email == "new@acme.example")).one()
        assert user.entity_id is None
    assert any("rejected: No evidence" in m for m in _inbox(db, _actor(user)))
    with db.writing() as session:
        request = request_correction(
            session, case["rep"], "name", "Acme Widgets Limited", "Our registered name."
        )
        decide_correction(session, ADMIN, request, True, "Matches Companies House.")
    with db.session() as session:
        assert session.get(Entity, case["entity"]).name == "Acme Widgets Limited"


def test_the_web_journey_reply_and_appeal(app, db, case):
    rep = app.test_client()
    sign_in(rep, "rep@acme.example")
    page = rep.get("/workspace/organisation").get_data(as_text=True)
    assert "You can appeal until" in page
    token = csrf_token(rep, "/workspace/organisation")
    rep.post(
        f"/workspace/organisation/records/{case['ref']}/reply",
        data={"csrf_token": token, "body": "Our answer."},
    )
    rep.post(
        f"/workspace/organisation/records/{case['ref']}/appeal",
        data={"csrf_token": token, "grounds": "Wrong facts."},
    )
    regulator = app.test_client()
    sign_in(regulator, "dec@ico.example")
    desk = regulator.get("/workspace/agency").get_data(as_text=True)
    assert case["ref"] in desk and "Open appeals" in desk
    token2 = csrf_token(regulator, f"/workspace/records/{case['ref']}")
    regulator.post(
        f"/workspace/records/{case['ref']}/decide",
        data={"csrf_token": token2, "outcome": "dismissed", "reason": "Facts hold."},
    )
    html = app.test_client().get(f"/records/{case['ref']}").get_data(as_text=True)
    assert "Our answer." in html and "(dismissed)" in html and "Facts hold." in html


def test_an_appeal_past_the_decision_deadline_is_flagged_overdue(db, case):
    """Open appeals older than the rulebook's deadline are flagged; younger ones are not."""
    import scoring
    from portal.models import Agency
    from portal.services.appeals import overdue_appeals

    with db.writing() as session:
        file_appeal(session, case["rep"], _record(session, case), "The breach was a false alarm.")
        code = session.get(Entity, case["entity"]).jurisdiction_code
    days = scoring.default_rulebooks().select(code, datetime.now(UTC).date())
    days = days.appeal_decide_within_days

    def overdue_refs(when):
        with time_machine.travel(when, tick=False), db.session() as session:
            agency = session.exec(select(Agency).where(Agency.slug == "ico")).one()
            return [record.ref for _appeal, record in overdue_appeals(session, agency)]

    assert overdue_refs(datetime.now(UTC) + timedelta(days=days - 1)) == []
    assert overdue_refs(datetime.now(UTC) + timedelta(days=days + 1)) == [case["ref"]]


def test_no_one_who_corrected_or_approved_a_finding_decides_its_appeal(db, case):
    from portal.services.records import correct_record

    with db.writing() as session:
        corrector = make_user(session, "cor@ico.example", "regulator", agency="ico")
        corrector_actor = _actor(corrector)
        correct_record(
            session, corrector_actor, _record(session, case), {"title": "Breach reported late"},
            "The title named the wrong breach.",
        )  # fmt: skip
        appeal = file_appeal(session, case["rep"], _record(session, case), "Not us.")
        appeal_id = appeal.id
    for who in (corrector_actor, case["publisher"]):
        with db.writing() as session, pytest.raises(PermissionDenied, match="cannot decide"):
            decide_appeal(session, who, session.get(Appeal, appeal_id), "dismissed", "Stands.")
    with db.writing() as session:
        decided = decide_appeal(
            session, case["decider"], session.get(Appeal, appeal_id), "dismissed", "It stands."
        )
        assert decided.status == "dismissed"


def test_the_representative_is_told_of_publication_and_correction_with_the_deadline(db, case):
    from portal.services.records import correct_record

    with db.writing() as session:
        agency = session.exec(select(Record).where(Record.ref == case["ref"])).one().agency_id
        from portal.models import Agency

        ico = session.get(Agency, agency)
        entity = session.get(Entity, case["entity"])
        fresh = make_record(session, ico, entity, actor=case["publisher"], title="Late notice")
        correct_record(
            session, case["publisher"], fresh, {"title": "Late breach notice"}, "Clearer title."
        )
        until = fresh.published_at.date() + timedelta(days=21)
    messages = _inbox(db, case["rep"])
    deadline = f"appeal it until {until.day} {until.strftime('%B %Y')}."
    assert f"A finding about Acme Widgets Ltd was published: Late notice ({fresh.ref})." in (
        " ".join(messages)
    )
    assert any(m.startswith("A finding about Acme Widgets Ltd was corrected") for m in messages)
    assert all(deadline in m for m in messages if fresh.ref in m)
