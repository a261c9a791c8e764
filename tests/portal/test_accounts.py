"""Accounts: argon2 passwords, lock-out, TOTP, CSRF, revocable sessions, tokens."""

from __future__ import annotations

import pyotp
from click.testing import CliRunner
from sqlmodel import select

from portal.cli import cli
from portal.models import ApiToken, User
from tests.factories import PASSWORD, csrf_token, make_agency, make_user, sign_in


def _regulator(db, email="reg@ico.example", **agency):
    with db.writing() as session:
        make_agency(session, **agency)
        make_user(session, email, "regulator", agency="ico")


def test_passwords_are_stored_as_argon2id(db):
    _regulator(db)
    with db.session() as session:
        user = session.exec(select(User)).one()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_sign_in_and_out(client, db):
    _regulator(db)
    response = sign_in(client, "reg@ico.example")
    assert response.status_code == 302
    assert client.get("/workspace/agency").status_code == 200
    token = csrf_token(client, "/workspace/agency")
    client.post("/workspace/sign-out", data={"csrf_token": token})
    assert client.get("/workspace/agency").status_code == 302


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, db):
    _regulator(db)
    wrong = sign_in(client, "reg@ico.example", "not the password")
    unknown = sign_in(client, "nobody@ico.example")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "The email address or password is not right." in response.get_data(as_text=True)


def test_five_failures_lock_the_account(client, db):
    _regulator(db)
    for _ in range(5):
        sign_in(client, "reg@ico.example", "guess")
    locked = sign_in(client, "reg@ico.example")  # the right password, too late
    assert locked.status_code == 401
    assert "Too many failed attempts" in locked.get_data(as_text=True)


def test_missing_csrf_token_is_refused(client, db):
    _regulator(db)
    response = client.post(
        "/workspace/sign-in", data={"email": "reg@ico.example", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/workspace/agency").status_code == 302


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, client, db):
    _regulator(db)
    sign_in(client, "reg@ico.example")
    stolen = client.get_cookie("session").value
    token = csrf_token(client, "/workspace/agency")
    client.post("/workspace/sign-out", data={"csrf_token": token})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/workspace/agency").status_code == 302


def test_disabling_an_account_ends_its_sessions(app, client, db):
    from portal.services.access import Actor
    from portal.services.accounts import set_active

    _regulator(db)
    sign_in(client, "reg@ico.example")
    with db.writing() as session:
        set_active(session, Actor.cli(), session.exec(select(User)).one(), False)
    assert client.get("/workspace/agency").status_code == 302


def test_totp_required_by_the_agency(client, db):
    from portal.services.access import Actor
    from portal.services.admin import update_agency

    _regulator(db)
    secret = pyotp.random_base32()
    with db.writing() as session:
        user = session.exec(select(User)).one()
        user.totp_secret = secret
        session.add(user)
        agency = update_agency(
            session, Actor.cli(), user_agency(session), ["data_protection"], True, True
        )
    first = sign_in(client, "reg@ico.example")
    assert first.status_code == 401 and "authenticator" in first.get_data(as_text=True)
    token = csrf_token(client)
    ok = client.post(
        "/workspace/sign-in",
        data={
            "email": "reg@ico.example",
            "password": PASSWORD,
            "csrf_token": token,
            "totp": pyotp.TOTP(secret).now(),
        },
    )
    assert ok.status_code == 302
    assert agency.requires_totp


def user_agency(session):
    from portal.models import Agency

    return session.exec(select(Agency)).one()


def test_sign_in_refuses_open_redirects(client, db):
    _regulator(db)
    token = csrf_token(client)
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        response = client.post(
            "/workspace/sign-in",
            data={
                "email": "reg@ico.example",
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
        )
        assert response.headers["Location"] == "/workspace/"


def test_demo_accounts_need_a_demo_register(client, db):
    with db.writing() as session:
        make_user(session, "admin@demo.invalid", "admin")
    refused = sign_in(client, "admin@demo.invalid")
    assert "Demo accounts work only" in refused.get_data(as_text=True)


def _env(app):
    return {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}


def test_cli_users_create_asks_twice_and_tokens_print_once(app, db):
    with db.writing() as session:
        make_agency(session)
    runner = CliRunner()
    created = runner.invoke(
        cli,
        ["users", "create", "new@ico.example", "--role", "regulator", "--agency", "ico"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env=_env(app),
    )
    assert created.exit_code == 0, created.output
    mismatch = runner.invoke(
        cli,
        ["users", "create", "other@ico.example", "--role", "admin"],
        input=f"{PASSWORD}\nsomething else\n",
        env=_env(app),
    )
    assert mismatch.exit_code != 0
    token = runner.invoke(cli, ["tokens", "create", "new@ico.example"], env=_env(app))
    raw = token.output.strip().splitlines()[-1]
    assert raw.startswith("ap_") and len(raw) > 40
    with db.session() as session:
        stored = session.exec(select(ApiToken)).one()
    assert raw not in stored.token_hash
    revoked = runner.invoke(cli, ["tokens", "revoke", "new@ico.example"], env=_env(app))
    assert "Revoked 1 token(s)." in revoked.output


def test_session_cookies_are_secure_httponly_and_samesite(tmp_path, database_url):
    from portal import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
            "SEARCH_INDEX": "memory",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.extensions["portal.db"].writing() as session:
        make_agency(session)
        make_user(session, "reg@ico.example", "regulator", agency="ico")
    response = app.test_client().post(
        "/workspace/sign-in", data={"email": "reg@ico.example", "password": PASSWORD}
    )
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    app.extensions["portal.db"].dispose()


def test_production_hashing_is_memory_hard():
    from portal.services.accounts import production_hasher

    hasher = production_hasher()
    assert hasher.memory_cost >= 65536 and hasher.type.name == "ID"


def test_a_revoked_token_is_refused_at_once(client, db):
    from portal.services.access import Actor
    from portal.services.accounts import create_token, revoke_tokens

    _regulator(db)
    with db.writing() as session:
        user = session.exec(select(User)).one()
        raw = create_token(session, Actor.cli(), user)
    headers = {"Authorization": f"Bearer {raw}"}
    body = {
        "entity_slug": "nobody",
        "category": "data_protection",
        "severity": "minor",
        "title": "t",
        "decided_on": "2026-01-01",
    }
    assert client.post("/api/v1/records", json=body, headers=headers).status_code == 422
    with db.writing() as session:
        revoke_tokens(session, Actor.cli(), session.exec(select(User)).one())
    refused = client.post("/api/v1/records", json=body, headers=headers)
    assert refused.status_code == 401


def test_an_admin_changes_a_role_and_the_old_sessions_end(app, client, db):
    from portal.models import Role
    from portal.services.access import Actor
    from portal.services.accounts import change_role

    _regulator(db)
    sign_in(client, "reg@ico.example")
    assert client.get("/workspace/agency").status_code == 200
    with db.writing() as session:
        change_role(session, Actor.cli(), session.exec(select(User)).one(), Role.ADMIN)
    assert client.get("/workspace/agency").status_code == 302
    admin = app.test_client()
    sign_in(admin, "reg@ico.example")
    assert admin.get("/admin/").status_code == 200
    assert admin.get("/workspace/inbox").status_code == 200
