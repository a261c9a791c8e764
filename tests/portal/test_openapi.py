"""The OpenAPI document: valid, complete, and true of the API (fuzzed with schemathesis).

`.ci/run` runs the same conformance checks against a live gunicorn with the CLI:
`schemathesis run http://127.0.0.1:5000/api/v1/openapi.json --include-method GET
 --checks not_a_server_error,status_code_conformance,content_type_conformance,
response_headers_conformance,response_schema_conformance --max-examples 25`
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import select

from portal.models import Agency, Entity, Record
from portal.openapi import openapi_spec
from tests.conftest import sqlite_only
from tests.portal.test_exports import demo_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _openapi_path(rule: str) -> str:
    """A Flask rule in OpenAPI's spelling: <slug> and <int:id> become {slug} and {id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_the_document_is_valid_openapi_3_1():
    spec = openapi_spec()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_api_route_is_described_with_its_methods(app):
    described = openapi_spec()["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = _openapi_path(rule.rule)
        assert path in described, f"{rule.rule} is missing from the OpenAPI document"
        for method in (rule.methods or set()) - IGNORED_METHODS:
            assert method.lower() in described[path], f"{method} {rule.rule} is not described"


def test_every_described_operation_exists(app):
    routes = {}
    for rule in app.url_map.iter_rules():
        routes.setdefault(_openapi_path(rule.rule), set()).update(rule.methods or ())
    for path, item in openapi_spec()["paths"].items():
        for method in item:
            assert method.upper() in routes.get(path, set()), f"{method} {path} has no route"


def test_the_reference_page_shows_every_operation(client):
    html = client.get("/open-data/api").get_data(as_text=True)
    for path, item in openapi_spec()["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}" in html
    assert "<script" not in html.split("</head>")[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo register behind the API."""
    app = demo_app(tmp_path_factory.mktemp("openapi"), entities=120, seed=21)
    yield app
    app.extensions["portal.search"].close()
    app.extensions["portal.db"].dispose()


def _get_operations(demo):
    """Every GET operation of the document as the app serves it, loaded by schemathesis."""
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo).include(method="GET")
    return [result.ok() for result in loaded.get_all_operations()]


@sqlite_only
def test_fuzzed_reads_conform_to_the_document(demo):
    # schemathesis's pytest plugin does not run under pytest 9; drive hypothesis directly.
    operations = _get_operations(demo)
    assert len(operations) == len([p for p in openapi_spec()["paths"].values() if "get" in p])
    for operation in operations:

        @settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def conforms(case):
            """One generated request: no 5xx, and the answer is as described."""
            case.call_and_validate(checks=CHECKS)

        conforms()


def _known(demo):
    """Real identifiers from the demo: entities, records in each state, an agency."""
    with demo.extensions["portal.db"].session() as session:
        slugs = session.exec(select(Entity.slug).order_by(Entity.id).limit(5)).all()
        refs = [
            session.exec(select(Record.ref).where(Record.status == status)).first()
            for status in ("published", "under_appeal", "withdrawn", "overturned")
        ]
        agency = session.exec(select(Agency.slug)).first()
    return list(slugs), [r for r in refs if r], agency


@sqlite_only
def test_real_resources_conform_to_the_document(demo):
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo)
    slugs, refs, agency = _known(demo)
    cases = []
    for slug in slugs:
        for path in ("/api/v1/entities/{slug}", "/api/v1/entities/{slug}/records"):
            cases.append(loaded[path]["GET"].Case(path_parameters={"slug": slug}))
        score = loaded["/api/v1/entities/{slug}/score"]["GET"]
        cases.append(score.Case(path_parameters={"slug": slug}, query={"as_of": "2024-01-31"}))
    for ref in refs:
        cases.append(loaded["/api/v1/records/{ref}"]["GET"].Case(path_parameters={"ref": ref}))
    cases.append(loaded["/api/v1/agencies/{slug}"]["GET"].Case(path_parameters={"slug": agency}))
    for code in ("GB", "GB-WLS", "US"):
        operation = loaded["/api/v1/jurisdictions/{code}"]["GET"]
        cases.append(operation.Case(path_parameters={"code": code}))
    for case in cases:
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code == 200, (case.path, case.path_parameters)
    assert len(refs) == 4, "the demo should hold records in every public or ended state"


def test_every_operation_documents_the_outage_and_entity_reads_the_merge_redirect(client, db):
    """503 (the database away, tests/portal/test_faults.py) and 301 (a merged entity)."""
    from portal.services.access import Actor
    from portal.services.admin import merge_entities
    from tests.factories import make_entity

    spec = openapi_spec()
    operations = [(p, m, op) for p, item in spec["paths"].items() for m, op in item.items()]
    assert operations and all("503" in op["responses"] for _p, _m, op in operations)
    slugged = {p for p, _m, op in operations if "301" in op["responses"]}
    assert slugged == {p for p, _m, _op in operations if "{slug}" in p and "/entities/" in p}
    with db.writing() as session:
        keep = make_entity(session, name="Acme Widgets Ltd")
        dup = make_entity(session, name="Acme Widgets Limited")
        merge_entities(session, Actor.cli(), dup, keep)
    for path in slugged:
        moved = client.get(path.replace("{slug}", dup.slug))
        assert moved.status_code == 301, path
        assert moved.headers["Location"].endswith(path.replace("{slug}", keep.slug))
