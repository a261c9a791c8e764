"""Hostile input refused: oversized and malformed bodies, path traversal, markup in data,
Unicode tricks, open redirects; and the security headers on every page.

A refusal is always a clear 4xx (JSON under /api/, a page elsewhere), never a 500,
never a file's contents, never markup of ours built from someone else's text.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import func
from sqlmodel import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

import scoring
from portal.models import Entity, Record, User
from portal.services.access import Actor
from portal.services.accounts import create_token, user_by_email
from portal.services.appeals import file_appeal
from portal.services.due_process import decide_claim, publish_response, register_representative
from portal.services.imports.run import import_entities
from portal.services.records import correct_record
from tests.factories import (
    IMPORTER,
    OPERATOR,
    PASSWORD,
    csrf_token,
    make_agency,
    make_entity,
    make_record,
    make_user,
    sign_in,
)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SVG = "'><svg onload=alert(2)>"
LINK = '<a href="javascript:alert(3)">x</a>'
HTMX = '" hx-get="/admin/" hx-trigger="load'
PAYLOADS = (SCRIPT, IMG, SVG, LINK, HTMX)
DECIDED = (date.today() - timedelta(days=20)).isoformat()
ADMIN = Actor("user:admin", None, None, system=True)
FILE_MARKERS = (
    "root:x:0:",  # /etc/passwd
    "[build-system]",  # pyproject.toml
    "The application factory",  # portal/app.py
    "for 16-bit app support",  # win.ini
    "test-secret",  # the app's secret key
)


def _actor(user: User) -> Actor:
    """The change-log actor of an account."""
    return Actor(f"user:{user.id}", user.role, user.id, user.agency_id, user.entity_id)


@pytest.fixture
def world(db):
    """An agency, entity, record, reply, appeal and correction full of markup; four users."""
    with db.writing() as session:
        agency = make_agency(session, name=f"Agency {SCRIPT}")
        entity = make_entity(
            session,
            name=f"Hostile {SCRIPT} Ltd",
            aliases=f"Alias {IMG}|Other {SVG}",
            sector=f"retail {LINK}"[:100],
            registration_id=f"REG{HTMX}"[:100],
            address=f"1 High St {IMG}",
        )
        regulator = make_user(session, "reg@ico.example", "regulator", agency="ico")
        make_user(session, "admin@register.example", "admin")
        author = _actor(regulator)
        record = make_record(
            session,
            agency,
            entity,
            actor=author,
            title=f"Finding {SCRIPT}",
            summary=" ".join(PAYLOADS),
            statute=f"Act {IMG}",
            source_url=f"https://example.com/?q={IMG}",
            decided_on=DECIDED,
        )
        appealed = make_record(session, agency, entity, actor=author, title=f"Appealed {SVG}")
        claim = register_representative(
            session, "rep@hostile.example", PASSWORD, entity.slug, f"I am its DPO {SCRIPT}"
        )
        decide_claim(session, ADMIN, claim, True, f"Checked {IMG}")
        rep = _actor(user_by_email(session, "rep@hostile.example"))
        publish_response(session, rep, record, f"Our reply {SCRIPT} {IMG} {LINK}")
        file_appeal(session, rep, appealed, f"Grounds {SCRIPT} {SVG}")
        changes = {"severity": "serious"}
        correct_record(session, author, record, changes, f"Corrected {SCRIPT} {IMG}")
        token = create_token(session, OPERATOR, user_by_email(session, "reg@ico.example"))
    return {
        "slug": entity.slug,
        "ref": record.ref,
        "appealed": appealed.ref,
        "agency": agency.slug,
        "auth": {"Authorization": f"Bearer {token}"},
    }


def _signed_in(app, email: str):
    """A test client signed in as `email`."""
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def _assert_4xx_json(response, *statuses: int) -> dict:
    """A 4xx (one of `statuses` if given) with the API's JSON error shape; returns the error."""
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    if statuses:
        assert response.status_code in statuses, response.get_data(as_text=True)[:300]
    assert response.is_json, response.content_type
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    return error


# -- request body and upload size limits ---------------------------------------------------


def test_an_api_body_over_the_limit_is_a_413_in_json(client, world):
    """17 MB to the write API: 413 with a JSON error, before anything is parsed."""
    body = b'{"title": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    headers = {**world["auth"], "Content-Type": "application/json"}
    error = _assert_4xx_json(client.post("/api/v1/records", data=body, headers=headers), 413)
    assert error["code"] == "request_entity_too_large"


def test_a_chunked_body_over_the_limit_is_refused_too(app, client, world):
    """No Content-Length (chunked, as gunicorn passes it on): nothing past the limit is read.

    Werkzeug stops reading at the limit without raising; the API still says 413, not that
    the (truncated) body is not JSON.
    """
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    body = b'{"title": "' + b"x" * (256 * 1024) + b'"}'
    response = client.post(
        "/api/v1/records",
        input_stream=io.BytesIO(body),
        headers={**world["auth"], "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    )
    assert _assert_4xx_json(response, 413)["code"] == "request_entity_too_large"


def test_a_form_over_the_limit_is_a_413_page(client):
    """A huge sign-in form gets the 413 page, not a traceback."""
    response = client.post("/workspace/sign-in", data={"email": "x" * (17 * 1024 * 1024)})
    assert response.status_code == 413
    assert "text/html" in response.content_type


def test_a_report_upload_over_its_limit_is_a_413_page(client):
    """The report check accepts 8 MB; 9 MB is refused with its own message."""
    data = {
        "file": FileStorage(io.BytesIO(b"%PDF-" + b"0" * (9 * 1024 * 1024)), "big.pdf"),
        "csrf_token": csrf_token(client, "/verify"),
    }
    # Encoded in memory: the test client would spool it to a temporary file it never closes.
    stream, _length, boundary = stream_encode_multipart(data, use_tempfile=False)
    content_type = f"multipart/form-data; boundary={boundary}"
    response = client.post("/verify", data=stream.getvalue(), content_type=content_type)
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)


# -- malformed JSON to the write API ---------------------------------------------------------

GOOD = {
    "entity_slug": "hostile-script-alert-1-script-ltd",
    "category": "data_protection",
    "severity": "minor",
    "title": "A plain finding",
    "decided_on": DECIDED,
}
NESTED = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param("not json", "application/json", 400, id="not-json"),
        pytest.param(json.dumps(GOOD), "text/plain", 400, id="wrong-content-type"),
        pytest.param("[1, 2, 3]", "application/json", 400, id="array"),
        pytest.param('"a string"', "application/json", 400, id="string"),
        pytest.param("null", "application/json", 400, id="null"),
        pytest.param(b"\xff\xfe{}", "application/json", 400, id="not-utf8"),
        pytest.param(NESTED, "application/json", 400, id="nested-100k-deep"),
        pytest.param('{"a":' * 50_000 + "1" + "}" * 50_000, "application/json", 400, id="objects"),
        pytest.param(
            json.dumps({**GOOD, "title": "x" * (5 * 1024 * 1024)}),
            "application/json",
            422,
            id="5MB-title",
        ),
        pytest.param(
            json.dumps({f"field{i}": i for i in range(300_000)}),
            "application/json",
            422,
            id="5MB-of-keys",
        ),
        pytest.param(
            json.dumps({**GOOD, "severity": ["minor"]}), "application/json", 422, id="list-enum"
        ),
        pytest.param(
            json.dumps({**GOOD, "penalty_amount": float("nan")}),
            "application/json",
            422,
            id="NaN-amount",
        ),
        pytest.param('{"penalty_amount": 1e999999}', "application/json", 422, id="inf-amount"),
        pytest.param(
            json.dumps({**GOOD, "decided_on": {"y": 2024}}), "application/json", 422, id="dict-date"
        ),
        pytest.param(
            json.dumps({**GOOD, "title": ["x"]}),
            "application/json",
            422,
            id="list-title",
        ),
        pytest.param(
            json.dumps({**GOOD, "title": {"a": 1}}),
            "application/json",
            422,
            id="object-title",
        ),
        pytest.param(
            json.dumps({**GOOD, "title": True}),
            "application/json",
            422,
            id="boolean-title",
        ),
        pytest.param(
            json.dumps({**GOOD, "publish": "yes"}),
            "application/json",
            422,
            id="publish-not-boolean",
        ),
    ],
)
def test_malformed_json_to_the_write_api_is_a_clear_4xx(client, world, body, content_type, status):
    """Every malformed or wrongly typed body gets a JSON 4xx naming the problem, never a 500."""
    headers = {**world["auth"], "Content-Type": content_type}
    response = client.post("/api/v1/records", data=body, headers=headers)
    _assert_4xx_json(response, status)


def test_an_error_about_many_unknown_fields_stays_small(client, world):
    """Refusing 300,000 unknown fields does not send back 300,000 reasons."""
    body = json.dumps({f"field{i}": i for i in range(300_000)})
    headers = {**world["auth"], "Content-Type": "application/json"}
    response = client.post("/api/v1/records", data=body, headers=headers)
    _assert_4xx_json(response, 422)
    assert len(response.data) < 64 * 1024


# -- path traversal in every path parameter --------------------------------------------------

TRAVERSALS = (
    "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "../../../../etc/passwd",
    "%2e%2e%2f%2e%2e%2fpyproject.toml",
    "..%252F..%252Fetc%252Fpasswd",
    "....//....//etc/passwd",
    "..%5C..%5Cwindows%5Cwin.ini",
    "..;/..;/pyproject.toml",
    "%c0%ae%c0%ae%2fetc%2fpasswd",
    "%EF%BC%8E%EF%BC%8E%EF%BC%8Fetc",  # fullwidth ．．／
    "x%00.pdf",
    "%2Fetc%2Fpasswd",
    "instance%2Fsecret_key",
)


def _rules_with_parameters(app):
    """Every route that takes a value from the path, with its methods."""
    for rule in app.url_map.iter_rules():
        if "<" in rule.rule and rule.endpoint != "static":
            yield rule, sorted(rule.methods - {"HEAD", "OPTIONS"})


def _fill(rule, payload: str) -> str:
    """The rule's path with every parameter replaced by `payload` (already URL-encoded)."""
    return re.sub(r"<[^>]+>", payload, rule.rule)


def _client_for(app, path: str, clients: dict):
    """A client with the role that reaches deepest into `path`'s code."""
    if path.startswith("/admin"):
        return clients["admin"]
    if path.startswith("/workspace/organisation"):
        return clients["representative"]
    if path.startswith("/workspace"):
        return clients["regulator"]
    return clients["anonymous"]


def _no_file_contents(response) -> None:
    """The response carries none of the files a traversal would aim at."""
    body = response.get_data(as_text=True)
    for marker in FILE_MARKERS:
        assert marker not in body, marker


def test_path_traversal_in_every_path_parameter_is_refused(app, world):
    """Every route with a path parameter, every payload: a 4xx or a redirect, no file."""
    clients = {
        "anonymous": app.test_client(),
        "admin": _signed_in(app, "admin@register.example"),
        "representative": _signed_in(app, "rep@hostile.example"),
        "regulator": _signed_in(app, "reg@ico.example"),
    }
    tried = 0
    for rule, methods in _rules_with_parameters(app):
        for payload in TRAVERSALS:
            path = _fill(rule, payload)
            client = _client_for(app, path, clients)
            for method in methods:
                headers = world["auth"] if path.startswith("/api/") else {}
                response = client.open(path, method=method, headers=headers)
                tried += 1
                assert response.status_code < 500, f"{method} {path}"
                assert response.status_code != 200, f"{method} {path}"
                _no_file_contents(response)
    assert tried >= 20 * len(TRAVERSALS)


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2f..%2fpyproject.toml",
        "/static/../pyproject.toml",
        "/static/%2e%2e/portal/app.py",
        "/static/css/../../pyproject.toml",
        "/static/css/..%2F..%2F..%2Fetc%2Fpasswd",
        "/static//etc/passwd",
        "/static/..%5c..%5cpyproject.toml",
        "/static/%2Fetc%2Fpasswd",
        "/static/css/portal.css%00.py",
        "/records/../../x",
        "/methodology/../../x/1",
        "/entities/..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_static_files_and_named_paths_never_leave_their_folder(client, world, path):
    """A 404 (or 400), never another file; a redirect (merged slashes) stays on the site."""
    response = client.get(path)
    if response.status_code == 308:
        location = urlsplit(response.headers["Location"])
        assert location.netloc == "localhost" and location.path.startswith("/static/"), location
        response = client.get(location.path)
    assert response.status_code in (400, 404), response.status_code
    _no_file_contents(response)


# -- markup in every text field, shown literally ---------------------------------------------


class _Dangers(HTMLParser):
    """Collects what would run in a browser: handlers, script URLs, inline scripts, text."""

    def __init__(self) -> None:
        """Nothing seen yet."""
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Flag event handlers, script URLs, foreign scripts and injected elements."""
        for name, value in attrs:
            value = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}>")
            if name in ("href", "src", "action", "formaction") and value.startswith(
                ("javascript:", "vbscript:", "data:text")
            ):
                self.found.append(f"<{tag} {name}={value}>")
            if name.startswith("hx-") and "/admin" in value and tag != "form":
                self.found.append(f"<{tag} {name}={value}>")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):
                self.found.append(f"<script src={src!r}>")
            self._in_script = True
        if tag in ("iframe", "object", "embed") or (tag == "img" and ("src", "x") in attrs):
            self.found.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        """Leave a script element."""
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        """Inline script is refused (CSP forbids it too); other text is kept."""
        if self._in_script and data.strip():
            self.found.append(f"inline script {data[:40]!r}")
        self.text.append(data)


def _check_page(response, *shown: str) -> None:
    """No live markup from data; each of `shown` appears as literal text."""
    assert response.status_code == 200, response.status_code
    parser = _Dangers()
    parser.feed(response.get_data(as_text=True))
    assert parser.found == []
    text = "".join(parser.text)
    for value in shown:
        assert value in text, value


def test_markup_in_every_field_is_shown_literally_on_public_pages(client, world):
    """Entity, aliases, record fields, reply, appeal, correction, agency: all text, no markup."""
    slug, ref = world["slug"], world["ref"]
    _check_page(client.get(f"/entities/{slug}"), f"Hostile {SCRIPT} Ltd", f"Finding {SCRIPT}")
    _check_page(
        client.get(f"/records/{ref}"),
        f"Finding {SCRIPT}",
        f"Act {IMG}",
        SVG,
        f"Our reply {SCRIPT}",
        f"Corrected {SCRIPT}",
        f"Agency {SCRIPT}",
    )
    _check_page(client.get(f"/records/{world['appealed']}"), f"Appealed {SVG}")
    _check_page(client.get(f"/agencies/{world['agency']}"), f"Agency {SCRIPT}")
    _check_page(client.get("/"), f"Finding {SCRIPT}")
    _check_page(client.get("/jurisdictions/GB"))
    _check_page(client.get("/search?q=hostile"), f"Hostile {SCRIPT} Ltd")
    _check_page(client.get("/search?q=alias+img"))
    _check_page(client.get("/search?type=record&q=finding+script"), f"Finding {SCRIPT}")
    _check_page(client.get(f"/search?q={quote(SCRIPT)}"), SCRIPT)
    _check_page(client.get(f"/search?q={quote(IMG)}&type=record"), IMG)
    _check_page(client.get("/search/suggest?q=hostile"), f"Hostile {SCRIPT} Ltd")


def test_markup_is_inert_in_the_signed_in_workspaces(app, world):
    """The regulator's desk and record, the organisation's page, the admin page."""
    regulator = _signed_in(app, "reg@ico.example")
    _check_page(regulator.get("/workspace/agency"), f"Finding {SCRIPT}")
    _check_page(regulator.get(f"/workspace/records/{world['ref']}"), f"Our reply {SCRIPT}")
    _check_page(_signed_in(app, "rep@hostile.example").get("/workspace/organisation"))
    _check_page(_signed_in(app, "admin@register.example").get("/admin/"))


def test_a_javascript_source_url_never_becomes_a_link(client, world):
    """The record page's only source link is the http(s) one; script schemes are refused."""
    page = client.get(f"/records/{world['ref']}").get_data(as_text=True)
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert "https://example.com/?q=&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in hrefs
    for href in hrefs:
        assert not href.strip().lower().startswith(("javascript:", "data:", "vbscript:"))


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "java\tscript:alert(1)",
        "javascript://example.com/%0Aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "https:evil.example",
        "file:///etc/passwd",
    ],
)
def test_script_and_other_schemes_in_source_url_are_refused(client, world, url):
    """Through the API and the workspace form: a 422 naming source_url, nothing stored."""
    api = client.post("/api/v1/records", json={**GOOD, "source_url": url}, headers=world["auth"])
    assert _assert_4xx_json(api, 422)["details"]["source_url"]
    with client.application.app_context():
        db = client.application.extensions["portal.db"]
        with db.session() as session:
            stored = session.exec(select(Record.source_url)).all()
    assert url not in stored


def test_feeds_carry_markup_as_text(client, world):
    """Atom titles and summaries are text (or escaped twice): a feed reader shows, not runs."""
    for path in ("/feed.atom", f"/entities/{world['slug']}/feed.atom"):
        response = client.get(path)
        assert response.status_code == 200
        root = ET.fromstring(response.data)  # noqa: S314 - our own feed
        for element in root.iter():
            kind = element.get("type", "text")
            if element.tag.endswith(("title", "summary", "content", "subtitle")):
                if kind in ("html", "xhtml"):
                    assert "<script" not in (element.text or "").lower(), path
                else:
                    assert kind == "text", (element.tag, kind)


# -- Unicode tricks -------------------------------------------------------------------------

RLO = "\u202e"


def test_a_right_to_left_override_is_refused_by_the_import(db, tmp_path):
    """The import lists the row and the reason, and writes nothing."""
    path = tmp_path / "entities.csv"
    path.write_text(f"name,kind,jurisdiction\nGood Ltd,business,GB\nEvil{RLO}dtL,business,GB\n")
    report = import_entities(db, path, actor=IMPORTER)
    assert not report.ok
    assert "right-to-left override" in "\n".join(report.lines())
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(Entity)).one() == 0


def test_a_right_to_left_override_is_refused_by_the_workspace_form(app, db, world):
    """A regulator's draft with U+202E in the title: the form comes back with the reason."""
    client = _signed_in(app, "reg@ico.example")
    form = {
        "entity_slug": world["slug"],
        "category": "data_protection",
        "severity": "minor",
        "title": f"Fine {RLO}gnp.exe",
        "decided_on": DECIDED,
        "csrf_token": csrf_token(client, "/workspace/records/new"),
    }
    with db.session() as session:
        before = session.exec(select(func.count()).select_from(Record)).one()
    response = client.post("/workspace/records/new", data=form)
    assert response.status_code == 422
    assert "right-to-left override" in response.get_data(as_text=True)
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(Record)).one() == before


@pytest.mark.parametrize("control", ["\u202e", "\u2066", "\u202a", "\x00", "\x1b"])
def test_direction_and_control_characters_are_refused_by_the_api(client, world, control):
    """Each bidi override, isolate and C0 control in a record field: 422."""
    body = {**GOOD, "title": f"Fine {control}exe.pdf"}
    error = _assert_4xx_json(client.post("/api/v1/records", json=body, headers=world["auth"]), 422)
    assert "title" in error["details"]


def test_a_right_to_left_override_in_a_reason_is_refused(client, world):
    """Reasons are public text too: the same rule as every other field."""
    path = f"/api/v1/records/{world['ref']}/withdraw"
    response = client.post(path, json={"reason": f"Issued {RLO}rorre ni"}, headers=world["auth"])
    _assert_4xx_json(response, 422)


@pytest.fixture
def zeta(db):
    """A name with a zero-width space in it, and a plain one."""
    with db.writing() as session:
        make_entity(session, name="Zeta\u200bmax Holdings Ltd")
        make_entity(session, name="Contoso Ltd")


@pytest.mark.parametrize("query", ["zetamax", "ＺＥＴＡＭＡＸ", "Zetamax Holdings"])
def test_zero_width_in_a_name_and_fullwidth_queries_are_folded(client, zeta, query):
    """A zero-width space inside a stored name, and fullwidth letters typed, still match."""
    found = client.get(f"/api/v1/entities?q={quote(query)}").get_json()
    assert [item["name"] for item in found["items"]] == ["Zeta\u200bmax Holdings Ltd"], query
    _check_page(client.get(f"/search?q={quote(query)}"), "Zeta\u200bmax Holdings Ltd")


@pytest.mark.parametrize(
    "query", ["zeta\u200bmax", "con\u200btoso", "ZETA\u200dMAX", "zeta\u00admax", "zeta\u2066max"]
)
def test_zero_width_characters_typed_in_a_query_are_stripped(client, zeta, query):
    """A zero-width space pasted into the search box does not split the word."""
    assert client.get(f"/api/v1/entities?q={quote(query)}").get_json()["total"] == 1


@pytest.mark.parametrize("query", ["acme widgets", "\u0410cme", "\u0430\u0441me widgets"])
def test_a_cyrillic_look_alike_is_found_by_its_latin_spelling(client, db, query):
    """ "Аcme" with a Cyrillic А is a look-alike of Acme: found by either spelling."""
    with db.writing() as session:
        make_entity(session, name="\u0410cme Widgets Ltd")
        make_entity(session, name="Apex Widgets Ltd")
    found = client.get(f"/api/v1/entities?q={quote(query)}").get_json()
    assert [item["name"] for item in found["items"]] == ["\u0410cme Widgets Ltd"], query


def test_a_name_in_one_other_alphabet_is_not_folded_to_latin(client, db):
    """A wholly Cyrillic name keeps its letters: "Сок" is not found by "cok"."""
    with db.writing() as session:
        make_entity(session, name="\u0421\u043e\u043a Trading")
    assert client.get("/api/v1/entities?q=cok").get_json()["total"] == 0
    assert client.get(f"/api/v1/entities?q={quote('сок')}").get_json()["total"] == 1


def test_a_mixed_alphabet_name_is_flagged_on_its_page(client, db):
    """The profile says when a name mixes alphabets, and says nothing for a plain name."""
    with db.writing() as session:
        spoof = make_entity(session, name="\u0410cme Widgets Ltd").slug
        plain = make_entity(session, name="Acme Widgets Ltd").slug
    assert "more than one alphabet (Cyrillic, Latin)" in client.get(f"/entities/{spoof}").get_data(
        as_text=True
    )
    assert "more than one alphabet" not in client.get(f"/entities/{plain}").get_data(as_text=True)


def test_a_cyrillic_look_alike_is_shown_as_it_is(client, db):
    """The look-alike's own name is shown, escaped, on its page and in the API."""
    with db.writing() as session:
        slug = make_entity(session, name="\u0410cme Widgets Ltd").slug
    _check_page(client.get(f"/entities/{slug}"), "\u0410cme Widgets Ltd")
    assert client.get(f"/api/v1/entities/{slug}").get_json()["name"] == "\u0410cme Widgets Ltd"


# -- open redirects after sign-in ------------------------------------------------------------

REDIRECTS = [
    "https://evil.example/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    " //evil.example",
    "https:evil.example",
    "http://localhost@evil.example/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "\u3002evil.example",
]


def _browser_view(location: str) -> str:
    """The location as a browser reads it: tabs and newlines dropped, backslashes as slashes."""
    return re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip()


@pytest.mark.parametrize("target", REDIRECTS)
def test_sign_in_never_redirects_off_the_site(client, world, target):
    """After signing in, `next` is followed only to a path on this site."""
    token = csrf_token(client)
    data = {"email": "reg@ico.example", "password": PASSWORD, "csrf_token": token, "next": target}
    response = client.post("/workspace/sign-in", data=data)
    assert response.status_code == 302
    location = _browser_view(response.headers["Location"])
    parts = urlsplit(location)
    assert location.startswith("/") and not location.startswith("//"), location
    assert not parts.scheme and not parts.netloc, location


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/"])
def test_the_sign_in_form_does_not_carry_a_foreign_next(client, target):
    """The hidden `next` field of the form is already the safe one."""
    page = client.get(f"/workspace/sign-in?next={quote(target)}").get_data(as_text=True)
    assert "evil.example" not in page


def test_a_path_on_the_site_is_still_followed(client, world):
    """The refusals above do not break the ordinary case."""
    token = csrf_token(client)
    data = {
        "email": "reg@ico.example",
        "password": PASSWORD,
        "csrf_token": token,
        "next": f"/workspace/records/{world['ref']}?tab=history",
    }
    response = client.post("/workspace/sign-in", data=data)
    assert response.headers["Location"] == f"/workspace/records/{world['ref']}?tab=history"


# -- security headers on every page -----------------------------------------------------------


def _sample_args(rule, world) -> dict[str, str]:
    """Real values for a rule's parameters, so that most pages answer 200."""
    rulebook = next(iter(scoring.default_rulebooks().all()))
    values = {
        "slug": world["agency"] if "agenc" in rule.endpoint else world["slug"],
        "ref": world["ref"],
        "code": "GB",
        "jurisdiction": rulebook.jurisdiction,
        "version": str(rulebook.version),
        "report_id": "ABCD-EFGH-JKMN-PQRS",
        "sector": "retail",
        "filename": "css/portal.css",
    }
    return {name: values.get(name, "x") for name in rule.arguments}


def _csp_ok(response) -> None:
    """A strict policy: our own scripts only, no inline script, never framed."""
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    script = directives.get("script-src", directives.get("default-src"))
    assert script == ["'self'"], csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, csp
    assert directives.get("frame-ancestors") == ["'none'"], csp
    assert directives.get("object-src") == ["'none'"], csp
    assert directives.get("base-uri") in (["'none'"], ["'self'"]), csp


def _headers_ok(response, https: bool) -> None:
    """Every header the portal promises, with HSTS only over HTTPS."""
    _csp_ok(response)
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in (
        "same-origin",
        "strict-origin-when-cross-origin",
        "no-referrer",
    )
    assert response.headers.get("X-Frame-Options") == "DENY"
    hsts = response.headers.get("Strict-Transport-Security")
    if https:
        assert hsts and int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000, hsts
    else:
        assert hsts is None


PDF_ENDPOINTS = ("reports.entity", "reports.agency", "reports.jurisdiction", "reports.sector")


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_security_headers_on_every_get_route(app, world, https):
    """Every GET route in the url map, signed in where it needs it, plus error pages."""
    base_url = "https://localhost" if https else "http://localhost"
    anonymous = app.test_client()
    signed = {
        "/admin": _signed_in(app, "admin@register.example"),
        "/workspace/organisation": _signed_in(app, "rep@hostile.example"),
        "/workspace": _signed_in(app, "reg@ico.example"),
    }
    seen = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        args = _sample_args(rule, world)
        if rule.endpoint in PDF_ENDPOINTS and (not https or rule.endpoint != "reports.entity"):
            args = {name: "no-such-thing" for name in args}  # one real PDF is enough
        path = _fill_args(rule.rule, args)
        client = next((c for p, c in signed.items() if path.startswith(p)), anonymous)
        response = client.get(path, base_url=base_url)
        response.close()  # streamed exports end their generator here, in their context
        assert response.status_code < 500, path
        _headers_ok(response, https)
        seen.add(rule.endpoint)
    for path in ("/no-such-page", "/api/v1/no-such-thing", "/entities/no-such-entity"):
        response = anonymous.get(path, base_url=base_url)
        assert response.status_code == 404
        _headers_ok(response, https)
    response = anonymous.post("/", base_url=base_url)
    assert response.status_code == 405
    _headers_ok(response, https)
    assert {"static", "entities.detail", "api.entities", "reports.entity"} <= seen


def _fill_args(rule: str, args: dict[str, str]) -> str:
    """A rule's path with each `<converter:name>` replaced by its value."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: quote(args[m.group(1)], safe="/"), rule)


def test_an_error_page_from_a_crash_has_the_headers_too(app, monkeypatch):
    """A 500 is still framed by the same policy."""
    from portal.services import home

    def boom(*_args, **_kwargs):
        """Fail like a bug would."""
        raise RuntimeError("boom")

    monkeypatch.setattr(home, "register_counts", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/", base_url="https://localhost")
    assert response.status_code == 500
    assert "boom" not in response.get_data(as_text=True)
    _headers_ok(response, https=True)
