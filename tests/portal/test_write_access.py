"""Every write, on the web and through the API, by every kind of user.

A refusal is a 403 (or a redirect to sign-in / a 401 for the API) and changes
nothing in the database or the change log.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, select

from portal.models import Record
from portal.services.access import Actor
from portal.services.accounts import create_token, user_by_email
from portal.services.records import submit_record
from tests.factories import (
    OPERATOR,
    csrf_token,
    make_agency,
    make_entity,
    make_record,
    make_user,
    sign_in,
)

WHO = ["anonymous", "representative", "other regulator", "right regulator", "admin"]
EMAILS = {
    "representative": "rep@acme.example",
    "other regulator": "reg@cnil.example",
    "right regulator": "reg@ico.example",
    "admin": "admin@register.example",
}
TODAY = date.today()


@pytest.fixture
def world(db):
    """Two agencies, five accounts, and records at each stage."""
    with db.writing() as session:
        ico = make_agency(session)
        make_agency(session, "cnil", name="CNIL", jurisdiction="FR", categories=["data_protection"])
        acme = make_entity(session, name="Acme Widgets Ltd")
        make_entity(session, name="Acme Duplicate Ltd")
        make_user(session, EMAILS["representative"], "representative", entity="acme-widgets-ltd")
        make_user(session, EMAILS["other regulator"], "regulator", agency="cnil")
        author = make_user(session, "author@ico.example", "regulator", agency="ico")
        make_user(session, EMAILS["right regulator"], "regulator", agency="ico")
        make_user(session, EMAILS["admin"], "admin")
        author_actor = Actor(f"user:{author.id}", author.role, author.id, agency_id=ico.id)
        draft = make_record(session, ico, acme, publish=False, actor=author_actor)
        submitted = make_record(session, ico, acme, publish=False, actor=author_actor)
        submit_record(session, author_actor, submitted)
        published = make_record(session, ico, acme)
        debarred = make_record(session, ico, acme, measure="debarment")
        tokens = {
            who: create_token(session, OPERATOR, user_by_email(session, EMAILS[who]))
            for who in ("other regulator", "right regulator")
        }
    return {
        "draft": draft.ref,
        "submitted": submitted.ref,
        "published": published.ref,
        "debarred": debarred.ref,
        "tokens": tokens,
    }


def _correction(ref):
    return {
        "title": "Corrected title",
        "category": "data_protection",
        "severity": "serious",
        "decided_on": (TODAY - timedelta(days=30)).isoformat(),
        "reason": "Misread.",
    }


WEB = {
    "new draft": (
        "/workspace/records/new",
        lambda w: {
            "entity_slug": "acme-widgets-ltd",
            "category": "data_protection",
            "severity": "minor",
            "title": "New",
            "decided_on": TODAY.isoformat(),
        },
    ),
    "submit": ("/workspace/records/{draft}/submit", lambda w: {}),
    "approve": ("/workspace/records/{submitted}/approve", lambda w: {}),
    "publish": ("/workspace/records/{draft}/publish", lambda w: {}),
    "correct": ("/workspace/records/{published}/correct", lambda w: _correction(w["published"])),
    "remediate": (
        "/workspace/records/{published}/remediate",
        lambda w: {"remediated_on": TODAY.isoformat()},
    ),
    "withdraw": ("/workspace/records/{published}/withdraw", lambda w: {"reason": "Wrong."}),
    "lift": (
        "/workspace/records/{debarred}/lift",
        lambda w: {"lifted_on": TODAY.isoformat(), "reason": "Lifted on review."},
    ),
    "create user": (
        "/admin/create-user",
        lambda w: {"email": "new@x.example", "password": "a long enough password", "role": "admin"},
    ),
    "create agency": (
        "/admin/create-agency",
        lambda w: {"slug": "fsa", "name": "FSA", "jurisdiction": "GB", "categories": "food_safety"},
    ),
    "update agency": ("/admin/update-agency", lambda w: {"slug": "ico", "categories": "x"}),
    "add jurisdiction": ("/admin/add-jurisdiction", lambda w: {"code": "NO"}),
    "merge": (
        "/admin/merge",
        lambda w: {"source": "acme-duplicate-ltd", "target": "acme-widgets-ltd"},
    ),
}
# A new draft always belongs to the author's own agency, so any regulator may write one.
WEB_ALLOWED = {
    "other regulator": {"new draft"},
    "right regulator": {
        "new draft",
        "submit",
        "approve",
        "publish",
        "correct",
        "remediate",
        "withdraw",
        "lift",
    },
    "admin": {"create user", "create agency", "update agency", "add jurisdiction", "merge"},
}


def _state(db):
    """Row counts of every table and the head of the change log."""
    with db.session() as session:
        return {
            name: session.exec(select(func.count()).select_from(table)).one()
            for name, table in SQLModel.metadata.tables.items()
        }


def _statuses(db):
    with db.session() as session:
        return session.exec(select(Record.ref, Record.status, Record.revision)).all()


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("action", list(WEB))
def test_web_writes(app, db, world, who, action):
    client = app.test_client()
    if who != "anonymous":
        assert sign_in(client, EMAILS[who]).status_code == 302
    token = csrf_token(client)
    path, data = WEB[action]
    before, records_before = _state(db), _statuses(db)
    response = client.post(path.format(**world), data={**data(world), "csrf_token": token})
    if action in WEB_ALLOWED.get(who, set()):
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        assert _state(db)["auditevent"] > before["auditevent"], f"{who} {action} did nothing"
    else:
        if who == "anonymous":
            assert response.status_code == 302
            assert "/workspace/sign-in" in response.headers["Location"]
        else:
            assert response.status_code == 403
        assert _state(db) == before and _statuses(db) == records_before


API = {
    "create": (
        "/api/v1/records",
        lambda w: {
            "entity_slug": "acme-widgets-ltd",
            "category": "data_protection",
            "severity": "minor",
            "title": "Via the API",
            "decided_on": TODAY.isoformat(),
        },
    ),
    "publish": ("/api/v1/records/{draft}/publish", lambda w: {}),
    "withdraw": ("/api/v1/records/{published}/withdraw", lambda w: {"reason": "Wrong."}),
    "remediate": (
        "/api/v1/records/{published}/remediate",
        lambda w: {"remediated_on": TODAY.isoformat()},
    ),
    "lift": (
        "/api/v1/records/{debarred}/lift",
        lambda w: {"lifted_on": TODAY.isoformat(), "reason": "Lifted on review."},
    ),
}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("action", list(API))
def test_api_writes(client, db, world, who, action):
    headers = {}
    if who in world["tokens"]:
        headers["Authorization"] = f"Bearer {world['tokens'][who]}"
    elif who != "anonymous":
        headers["Authorization"] = "Bearer ap_not-a-token-of-anyone"  # no token for this role
    path, body = API[action]
    before = _state(db)
    response = client.post(path.format(**world), json=body(world), headers=headers)
    if who == "right regulator" or (who == "other regulator" and action == "create"):
        assert response.status_code in (200, 201), response.get_json()
        assert _state(db)["auditevent"] > before["auditevent"]
    else:
        expected = 403 if who == "other regulator" else 401
        assert response.status_code == expected
        assert response.get_json()["error"]["code"] in ("forbidden", "unauthorised")
        assert _state(db) == before
