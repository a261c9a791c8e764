"""Bulk import from the workspace: upload, preview with every bad row, then commit."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import func
from sqlmodel import select

from portal.models import Record
from tests.factories import csrf_token, make_agency, make_entity, make_user, sign_in

HEADER = "entity_slug,category,severity,title,decided_on\n"


def _regulator(app, db):
    with db.writing() as session:
        make_agency(session)
        make_entity(session)
        make_user(session, "reg@ico.example", "regulator", agency="ico")
    client = app.test_client()
    sign_in(client, "reg@ico.example")
    return client, csrf_token(client, "/workspace/imports")


def _upload(client, token, text, name="findings.csv"):
    data = {"csrf_token": token, "mapping": "", "file": (io.BytesIO(text.encode()), name)}
    return client.post("/workspace/imports", data=data, content_type="multipart/form-data")


def _count(db):
    with db.session() as session:
        return session.exec(select(func.count()).select_from(Record)).one()


def test_a_bad_row_is_listed_and_nothing_can_be_committed(app, db):
    client, token = _regulator(app, db)
    today = date.today().isoformat()
    text = HEADER + f"acme-widgets-ltd,data_protection,minor,Fine,{today}\n"
    text += f"acme-widgets-ltd,data_protection,tiny,Bad severity,{today}\n"
    html = _upload(client, token, text).get_data(as_text=True)
    assert "1 rows are invalid" in html
    assert "<td>2</td><td>3</td><td>severity: must be one of" in html
    assert "/workspace/imports/" not in html.split("Invalid rows")[-1]  # no commit form
    assert _count(db) == 0


def test_preview_then_commit_imports_every_row(app, db):
    client, token = _regulator(app, db)
    today = date.today().isoformat()
    text = HEADER + "".join(
        f"acme-widgets-ltd,data_protection,minor,Finding {i},{today}\n" for i in range(5)
    )
    html = _upload(client, token, text).get_data(as_text=True)
    assert "5 would be imported" in html and _count(db) == 0
    action = html.split('action="/workspace/imports/')[1].split('"')[0]
    done = client.post(
        f"/workspace/imports/{action}",
        data={"csrf_token": token, "mapping": "", "filename": "findings.csv"},
    )
    assert done.status_code == 302
    assert _count(db) == 5
    again = client.post(f"/workspace/imports/{action}", data={"csrf_token": token})
    assert again.status_code == 302 and _count(db) == 5  # the upload was used up


def test_a_too_large_upload_is_refused_with_a_message(app, db):
    client, token = _regulator(app, db)
    app.config["MAX_CONTENT_LENGTH"] = 2_000
    response = _upload(client, token, HEADER + "x" * 5_000)
    assert response.status_code == 413
    assert "Too Large" in response.get_data(as_text=True)
    assert _count(db) == 0


def test_only_regulators_may_import(app, db, client):
    assert client.get("/workspace/imports").status_code == 302
    with db.writing() as session:
        make_user(session, "admin@x.example", "admin")
    sign_in(client, "admin@x.example")
    assert client.get("/workspace/imports").status_code == 403
