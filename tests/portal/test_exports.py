"""Bulk exports: import columns, round trips, frictionless, FollowTheMoney, formula cells."""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import SQLModel, col, select

from portal import create_app
from portal.db import Database
from portal.demo import load_demo
from portal.models import Entity, Record
from portal.services.access import Actor
from portal.services.exports import ENTITY_FIELDS, RECORD_FIELDS, columns_for, neutralise
from portal.services.imports.columns import ENTITY_COLUMNS, RECORD_COLUMNS
from portal.services.imports.run import import_entities, import_records
from portal.services.public import records_in_view
from portal.services.records import record_by_ref, withdraw_record
from tests.conftest import sqlite_only
from tests.factories import IMPORTER, make_agency, make_entity, make_record

DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\0")


def demo_app(path: Path, entities: int = 300, seed: int = 5) -> Flask:
    """An app on a fresh SQLite register holding the demo data (a few seconds)."""
    url = f"sqlite:///{path / 'portal.sqlite3'}"
    db = Database(url)
    SQLModel.metadata.create_all(db.engine)
    load_demo(db, str(path), entities=entities, seed=seed, progress=False)
    db.dispose()
    config = {"TESTING": True, "SECRET_KEY": "t", "DATA_DIR": str(path), "DATABASE_URL": url}
    return create_app(config | {"SEARCH_INDEX": "memory", "RATELIMIT_ENABLED": False})


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo register, loaded once for this module's read-only tests."""
    app = demo_app(tmp_path_factory.mktemp("exports"))
    yield app
    app.extensions["portal.search"].close()
    app.extensions["portal.db"].dispose()


def _csv(client, path):
    """The rows of a CSV export."""
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@sqlite_only
def test_csv_columns_are_the_import_columns_then_the_derived_ones(demo):
    client = demo.test_client()
    for what, importable in (("entities", ENTITY_COLUMNS), ("records", RECORD_COLUMNS)):
        full = client.get(f"/exports/{what}.csv").get_data(as_text=True).splitlines()[0]
        plain = client.get(f"/exports/{what}.csv?columns=import").get_data(as_text=True)
        assert tuple(plain.splitlines()[0].split(",")) == importable
        assert tuple(full.split(",")[: len(importable)]) == importable
    assert [f[0] for f in ENTITY_FIELDS] == list(columns_for("entities", "full"))
    assert [f[0] for f in RECORD_FIELDS] == list(columns_for("records", "full"))
    assert client.get("/exports/entities.csv?columns=everything").status_code == 400


@sqlite_only
def test_exports_hold_only_public_data(demo):
    client = demo.test_client()
    exported = {row["ref"] for row in _csv(client, "/exports/records.csv")}
    slugs = {row["slug"] for row in _csv(client, "/exports/entities.csv")}
    with demo.extensions["portal.db"].session() as session:
        statuses = dict(session.exec(select(Record.ref, Record.status)).all())
        hidden = [e for e in session.exec(select(Entity)).all() if not records_in_view(e)]
        hidden_refs = set(
            session.exec(
                select(Record.ref).where(col(Record.entity_id).in_([e.id for e in hidden]))
            ).all()
        )
    assert {statuses[ref] for ref in exported} <= {"published", "under_appeal"}
    assert {"withdrawn", "overturned"} & set(statuses.values()), "the demo should have ended ones"
    assert hidden, "the demo should have an official past the retention period"
    assert not {e.slug for e in hidden} & slugs and not hidden_refs & exported
    public = {r for r, s in statuses.items() if s in ("published", "under_appeal")}
    assert exported == public - hidden_refs


@sqlite_only
def test_an_export_can_be_imported_again(demo, tmp_path):
    client = demo.test_client()
    entities = tmp_path / "entities.csv"
    entities.write_bytes(client.get("/exports/entities.csv?columns=import").get_data())
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    SQLModel.metadata.create_all(fresh.engine)
    report = import_entities(fresh, entities, actor=IMPORTER, dry_run=True)
    assert report.ok, report.lines()[:5]
    assert report.created == len(_csv(client, "/exports/entities.csv"))
    fresh.dispose()
    records = tmp_path / "records.jsonl"
    records.write_bytes(client.get("/exports/records.jsonl?columns=import&agency=ico").get_data())
    report = import_records(
        demo.extensions["portal.db"], records, "ico", actor=IMPORTER, dry_run=True
    )
    assert report.ok, report.lines()[:5]
    assert report.rows > 10 and not report.created  # each source id is there already


@sqlite_only
def test_frictionless_validates_the_csvs_against_the_data_package(demo, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    client = demo.test_client()
    for name in ("entities.csv", "records.csv", "datapackage.json"):
        (tmp_path / name).write_bytes(client.get(f"/exports/{name}").get_data())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # frictionless's own imports
        report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


@sqlite_only
def test_followthemoney_reads_every_entity_without_losing_a_value(demo):
    pytest.importorskip("followthemoney")
    from followthemoney import model

    lines = demo.test_client().get("/exports/entities.ftm.json").get_data(as_text=True)
    schemas, ids = set(), set()
    for line in lines.splitlines():
        data = json.loads(line)
        proxy = model.get_proxy(data, cleaned=False)
        after = proxy.to_dict()["properties"]
        before = data["properties"]
        assert {k: sorted(v) for k, v in after.items()} == {k: sorted(v) for k, v in before.items()}
        schemas.add(data["schema"])
        ids.add(data["id"])
    assert schemas == {"Company", "Organization", "PublicBody", "Person", "Sanction"}
    sanctions = [json.loads(x) for x in lines.splitlines() if '"schema":"Sanction"' in x]
    assert all(s["properties"]["entity"][0] in ids for s in sanctions)
    assert all(s["properties"]["authority"] for s in sanctions)
    assert "ap-entity-" in lines and len(ids) == len(lines.splitlines())


@sqlite_only
def test_json_lines_carry_types_and_money_as_decimal_strings(demo):
    text = demo.test_client().get("/exports/records.jsonl").get_data(as_text=True)
    rows = [json.loads(line) for line in text.splitlines()]
    fined = [r for r in rows if r["penalty_amount"] is not None]
    assert fined and all(isinstance(r["penalty_amount"], str) for r in fined)
    assert all(len(r["decided_on"]) == 10 for r in rows)
    first = demo.test_client().get("/exports/entities.jsonl").get_data().split(b"\n")[0]
    entity = json.loads(first)
    assert isinstance(entity["aliases"], list) and isinstance(entity["score"], float)


def test_exports_stream_with_an_etag_that_moves_with_the_change_log(client, db):
    with db.writing() as session:
        agency, entity = make_agency(session), make_entity(session)
        ref = make_record(session, agency, entity).ref
    with client.get("/exports/records.csv") as first:  # closing it ends its read transaction
        assert first.is_streamed and first.headers["Content-Type"] == "text/csv; charset=utf-8"
        etag = first.headers["ETag"]
    assert client.get("/exports/records.csv", headers={"If-None-Match": etag}).status_code == 304
    with db.writing() as session:
        withdraw_record(session, Actor.cli(), record_by_ref(session, ref), "In error.")
    second = client.get("/exports/records.csv", headers={"If-None-Match": etag})
    assert second.status_code == 200 and second.headers["ETag"] != etag
    assert ref not in second.get_data(as_text=True)
    assert client.get("/exports/records.csv?agency=nope").status_code == 404


def test_formula_cells_are_neutralised_in_the_csv(client, db):
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session, '=HYPERLINK("http://x")', sector="-12.5")
        make_entity(session, "@SUM(A1)", sector="+cmd|' /C calc'!A0")
        make_record(session, agency, entity, title="-2+3 fine", summary="=1+1")
    entities = {r["slug"]: r for r in _csv(client, "/exports/entities.csv")}
    hyperlink = next(r for r in entities.values() if "HYPERLINK" in r["name"])
    assert hyperlink["name"].startswith("'=") and hyperlink["sector"] == "-12.5"
    at_sum = next(r for r in entities.values() if "SUM" in r["name"])
    assert at_sum["name"] == "'@SUM(A1)" and at_sum["sector"].startswith("'+")
    record = _csv(client, "/exports/records.csv")[0]
    assert record["title"] == "'-2+3 fine" and record["summary"] == "'=1+1"


@given(st.text(max_size=30))
def test_no_neutralised_cell_starts_a_formula(value):
    cell = neutralise(value)
    assert cell in (value, "'" + value)
    if cell and cell.startswith(DANGEROUS):
        float(cell)  # only a plain number may keep its sign


@given(st.sampled_from(DANGEROUS), st.text(max_size=20))
def test_every_formula_start_is_neutralised(start, rest):
    value = start + rest
    try:
        float(value)
    except ValueError:
        assert neutralise(value) == "'" + value
