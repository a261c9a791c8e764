"""The four-eyes publishing workflow in the regulators' workspace."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from portal.errors import Conflict, PermissionDenied
from portal.models import Record, RecordStatus
from portal.services.access import Actor
from portal.services.records import approve_record, publish_record, submit_record
from tests.factories import csrf_token, make_agency, make_entity, make_record, make_user, sign_in


@pytest.fixture
def four_eyes(db):
    """An agency that requires a second approval, with two regulators."""
    with db.writing() as session:
        agency = make_agency(session, requires_second_approval=True)
        make_entity(session)
        one = make_user(session, "one@ico.example", "regulator", agency="ico")
        two = make_user(session, "two@ico.example", "regulator", agency="ico")
    actors = {u.email: Actor(f"user:{u.id}", u.role, u.id, agency_id=agency.id) for u in (one, two)}
    return actors


def _status(db, ref):
    with db.session() as session:
        return session.exec(select(Record.status).where(Record.ref == ref)).one()


def test_the_author_cannot_approve_their_own_draft(db, four_eyes):
    author = four_eyes["one@ico.example"]
    with db.writing() as session:
        from portal.models import Agency, Entity

        agency = session.exec(select(Agency)).one()
        record = make_record(
            session, agency, session.exec(select(Entity)).one(), publish=False, actor=author
        )
        submit_record(session, author, record)
        ref = record.ref
    with pytest.raises(PermissionDenied, match="author"), db.writing() as session:
        approve_record(session, author, session.exec(select(Record)).one())
    with pytest.raises(Conflict, match="second approval"), db.writing() as session:
        publish_record(session, author, session.exec(select(Record)).one())
    assert _status(db, ref) == RecordStatus.SUBMITTED
    with db.writing() as session:
        approve_record(session, four_eyes["two@ico.example"], session.exec(select(Record)).one())
        publish_record(session, author, session.exec(select(Record)).one())
    assert _status(db, ref) == RecordStatus.PUBLISHED


def test_draft_to_publication_through_the_workspace(app, db, four_eyes):
    one, two = app.test_client(), app.test_client()
    sign_in(one, "one@ico.example")
    token = csrf_token(one, "/workspace/records/new")
    created = one.post(
        "/workspace/records/new",
        data={
            "csrf_token": token,
            "entity_slug": "acme-widgets-ltd",
            "category": "data_protection",
            "severity": "serious",
            "title": "Customer files left on a train",
            "decided_on": date.today().isoformat(),
        },
    )
    assert created.status_code == 302
    ref = created.headers["Location"].rsplit("/", 1)[1]
    one.post(f"/workspace/records/{ref}/submit", data={"csrf_token": token})
    page = one.get(f"/workspace/records/{ref}").get_data(as_text=True)
    assert "its author cannot" in page
    sign_in(two, "two@ico.example")
    token2 = csrf_token(two, f"/workspace/records/{ref}")
    two.post(f"/workspace/records/{ref}/approve", data={"csrf_token": token2})
    two.post(f"/workspace/records/{ref}/publish", data={"csrf_token": token2})
    assert _status(db, ref) == RecordStatus.PUBLISHED
    assert "Customer files left on a train" in app.test_client().get(f"/records/{ref}").get_data(
        as_text=True
    )


def test_form_errors_keep_what_was_typed(app, db, four_eyes):
    client = app.test_client()
    sign_in(client, "one@ico.example")
    token = csrf_token(client, "/workspace/records/new")
    response = client.post(
        "/workspace/records/new",
        data={
            "csrf_token": token,
            "entity_slug": "acme-widgets-ltd",
            "category": "data_protection",
            "severity": "serious",
            "title": "Kept title",
            "decided_on": "2999-01-01",
            "source_url": "javascript:alert(1)",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Kept title"' in html
    assert "is in the future" in html and "must be an http:// or https:// address" in html


def test_a_correction_keeps_the_old_revision_in_the_public_history(app, db, four_eyes):
    from portal.models import Agency, Entity

    with db.writing() as session:
        record = make_record(
            session,
            session.exec(select(Agency)).one(),
            session.exec(select(Entity)).one(),
            actor=Actor.cli(),
        )
    client = app.test_client()
    sign_in(client, "two@ico.example")
    token = csrf_token(client, f"/workspace/records/{record.ref}")
    client.post(
        f"/workspace/records/{record.ref}/correct",
        data={
            "csrf_token": token,
            "title": "Breach reported late",
            "category": "data_protection",
            "severity": "moderate",
            "decided_on": record.decided_on.isoformat(),
            "reason": "The title was unclear.",
        },
    )
    html = app.test_client().get(f"/records/{record.ref}").get_data(as_text=True)
    assert "title from “Breach not reported in time” to “Breach reported late”" in html
    assert "Reason: The title was unclear." in html
