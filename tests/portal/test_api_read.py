"""The read API: records with history, agencies, jurisdictions, ETags, CORS and JSON errors."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from portal import create_app
from portal.models import Role
from portal.services.access import Actor
from portal.services.accounts import create_token, user_by_email
from portal.services.appeals import file_appeal
from portal.services.due_process import publish_response
from portal.services.records import correct_record, record_by_ref, withdraw_record
from tests.factories import OPERATOR, make_agency, make_entity, make_record, make_user


def _published(db, **kwargs):
    """One published record of the ICO about Acme; its ref."""
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session)
        return make_record(session, agency, entity, **kwargs).ref


def test_a_record_has_its_fields_history_reply_and_appeal(client, db):
    ref = _published(db, penalty_amount="1500", penalty_currency="GBP")
    with db.writing() as session:
        record = record_by_ref(session, ref)
        user = make_user(session, "rep@acme.example", "representative", entity="acme-widgets-ltd")
        actor = Actor(f"user:{user.id}", Role.REPRESENTATIVE, user.id, entity_id=record.entity_id)
        publish_response(session, actor, record, "We reported it the next morning.")
        file_appeal(session, actor, record, "The breach was reported in time.")
    body = client.get(f"/api/v1/records/{ref}").get_json()
    assert body["ref"] == ref and body["entity"] == "acme-widgets-ltd" and body["agency"] == "ico"
    assert body["penalty"] == {"amount": "1500.00", "currency": "GBP"}
    assert body["status"] == "under_appeal"
    actions = [h["action"] for h in body["history"]]
    assert actions == ["record.published", "response.published", "appeal.filed"]
    assert body["responses"][0]["body"] == "We reported it the next morning."
    assert body["appeal"]["status"] == "open" and body["appeal"]["decided_at"] is None
    assert body["links"]["entity"] == "/api/v1/entities/acme-widgets-ltd"
    assert date.fromisoformat(body["decided_on"]) == date.today() - timedelta(days=30)


def test_a_correction_is_in_the_history_with_its_reason(client, db):
    ref = _published(db)
    with db.writing() as session:
        record = record_by_ref(session, ref)
        correct_record(session, Actor.cli(), record, {"severity": "serious"}, "Misread.")
    body = client.get(f"/api/v1/records/{ref}").get_json()
    corrected = body["history"][-1]
    assert corrected["action"] == "record.corrected" and corrected["reason"] == "Misread."
    assert corrected["changes"] == {"severity": {"from": "moderate", "to": "serious"}}
    assert body["revision"] == 2


def test_a_withdrawn_record_keeps_only_ref_status_and_history(client, db):
    ref = _published(db, title="An allegation that was wrong", summary="Details of it")
    with db.writing() as session:
        record = record_by_ref(session, ref)
        correct_record(session, Actor.cli(), record, {"title": "A wrong allegation"}, "Typo.")
        withdraw_record(session, Actor.cli(), record, "Issued in error.")
    response = client.get(f"/api/v1/records/{ref}")
    body = response.get_json()
    assert set(body) == {"ref", "status", "history", "links"}
    assert body["status"] == "withdrawn"
    assert body["history"][-1]["reason"] == "Issued in error."
    text = response.get_data(as_text=True)
    assert "allegation" not in text and "Details of it" not in text


def test_drafts_unknown_refs_and_officials_past_retention_are_404(client, db):
    draft = _published(db, publish=False)
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
        past = make_record(session, agency, old, category="conduct", decided_on="2009-01-01").ref
    for ref in (draft, "R-1900-000001", past):
        response = client.get(f"/api/v1/records/{ref}")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_agencies_and_one_agency(client, db):
    _published(db)
    listing = client.get("/api/v1/agencies").get_json()
    assert listing["total"] == 1 and listing["page"] == 1
    assert listing["items"][0]["slug"] == "ico"
    one = client.get("/api/v1/agencies/ico").get_json()
    assert one["published_by_category"] == {"data_protection": 1}
    assert one["links"]["feed"] == "/agencies/ico/feed.atom"
    assert len(one["recent"]) == 1 and one["appeals"]["filed"] == 0
    assert client.get("/api/v1/agencies/nope").get_json()["error"]["code"] == "not_found"


def test_jurisdictions_and_one_jurisdiction(client, db):
    _published(db)
    codes = [j["code"] for j in client.get("/api/v1/jurisdictions").get_json()["items"]]
    assert "GB" in codes
    gb = client.get("/api/v1/jurisdictions/GB").get_json()
    assert gb["agencies"] == ["ico"] and gb["rulebook"]["id"]
    assert gb["links"]["self"] == "/api/v1/jurisdictions/GB"
    assert client.get("/api/v1/jurisdictions/XX").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/api/v1/agencies", "/api/v1/methodology", "/api/v1/entities/acme-widgets-ltd"],
)
def test_reads_carry_an_etag_and_answer_304_to_it(client, db, path):
    _published(db)
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    other = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_reads_allow_any_origin_without_credentials(client, db):
    response = client.get("/api/v1/methodology", headers={"Origin": "https://news.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = client.options(
        "/api/v1/entities",
        headers={"Origin": "https://news.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/agencies?page=zero", 400, "bad_request"),
        ("get", "/api/v1/jurisdictions?per_page=1000", 400, "bad_request"),
        ("get", "/api/v1/entities/acme-widgets-ltd/score?as_of=2999-01-01", 422, "invalid"),
        ("get", "/api/v1/nothing-here", 404, "not_found"),
        ("delete", "/api/v1/agencies", 405, "method_not_allowed"),
        ("post", "/api/v1/records", 401, "unauthorised"),
    ],
)
def test_failures_are_json_with_the_right_status(client, db, method, path, status, code):
    _published(db)
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_a_body_over_the_limit_is_a_json_413(tmp_path: Path, database_url):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
            "SEARCH_INDEX": "memory",
            "RATELIMIT_ENABLED": False,
            "MAX_CONTENT_LENGTH": 1024,
        }
    )
    db = app.extensions["portal.db"]
    with db.writing() as session:
        make_agency(session)
        user = make_user(session, "reg@ico.example", "regulator", agency="ico")
        token = create_token(session, OPERATOR, user_by_email(session, user.email))
    response = app.test_client().post(
        "/api/v1/records",
        data="{" + " " * 4096 + "}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"
    app.extensions["portal.search"].close()
    db.dispose()


def test_past_the_read_limit_is_a_json_429_with_retry_after(tmp_path: Path, database_url):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
            "SEARCH_INDEX": "memory",
            "RATELIMIT_ENABLED": True,
            "API_READ_LIMIT": "3 per minute",
        }
    )
    client = app.test_client()
    answers = [client.get("/api/v1/methodology") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].get_json()["error"]["code"] == "too_many_requests"
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    app.extensions["portal.search"].close()
    app.extensions["portal.db"].dispose()


def _limited_app(tmp_path: Path, database_url: str, name: str, **config):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "DATA_DIR": str(tmp_path / name),
            "DATABASE_URL": database_url,
            "SEARCH_INDEX": "memory",
            "RATELIMIT_ENABLED": True,
            **config,
        }
    )


def _close(*apps):
    for app in apps:
        app.extensions["portal.search"].close()
        app.extensions["portal.db"].dispose()


def test_past_the_write_limit_is_a_json_429(tmp_path: Path, database_url):
    app = _limited_app(tmp_path, database_url, "data", API_WRITE_LIMIT="2 per minute")
    with app.extensions["portal.db"].writing() as session:
        make_agency(session)
        user = make_user(session, "reg@ico.example", "regulator", agency="ico")
        token = create_token(session, OPERATOR, user_by_email(session, user.email))
    headers = {"Authorization": f"Bearer {token}"}
    answers = [
        app.test_client().post("/api/v1/records", json={}, headers=headers) for _ in range(3)
    ]
    assert [a.status_code for a in answers[:2]] == [422, 422]  # counted, though refused
    assert answers[2].status_code == 429
    assert answers[2].get_json()["error"]["code"] == "too_many_requests"
    assert int(answers[2].headers["Retry-After"]) > 0
    _close(app)


@pytest.fixture
def redis_url(tmp_path: Path):
    """A real Redis server of this test's own, on a free port."""
    import shutil
    import socket
    import subprocess
    import time

    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(  # noqa: S603 - our own server binary and arguments
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def test_two_processes_share_one_limit_through_redis(tmp_path: Path, database_url, redis_url):
    """PORTAL_RATELIMIT_STORAGE=redis://…: reads through either instance count together."""
    first, second = (
        _limited_app(
            tmp_path, database_url, name, RATELIMIT_STORAGE=redis_url, API_READ_LIMIT="3 per minute"
        )
        for name in ("one", "two")
    )
    statuses = [first.test_client().get("/api/v1/methodology").status_code for _ in range(2)]
    statuses += [second.test_client().get("/api/v1/methodology").status_code for _ in range(2)]
    assert statuses == [200, 200, 200, 429]
    _close(first, second)
