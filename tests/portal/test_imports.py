"""Imports are all-or-nothing and name every bad row by its number."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

from click.testing import CliRunner
from sqlalchemy import func
from sqlmodel import SQLModel, select

from portal.cli import cli
from portal.models import Entity, EntityAlias, Record, RecordStatus
from portal.services.imports import import_entities, import_records
from tests.factories import make_agency, make_entity

HEADER = ["name", "kind", "jurisdiction", "registration_id", "aliases", "sector"]


def _write_csv(path, rows, header=HEADER):
    """Write rows under a header as a UTF-8 CSV file."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _entity_rows(n):
    """n valid entity rows with accented names and aliases."""
    return [
        [f"Société Numéro {i} S.A.", "business", "FR", f"FR{i:07d}", f"SN{i}|Numéro {i}", "retail"]
        for i in range(1, n + 1)
    ]


def _table_counts(db):
    """Row counts of every table, the change log included."""
    with db.session() as session:
        return {
            name: session.exec(select(func.count()).select_from(table)).one()
            for name, table in SQLModel.metadata.tables.items()
        }


def test_a_valid_file_imports_every_row_with_aliases(db, tmp_path):
    report = import_entities(db, _write_csv(tmp_path / "e.csv", _entity_rows(3)))
    assert report.ok and report.created == 3
    with db.session() as session:
        entity = session.exec(select(Entity).where(Entity.registration_id == "FR0000002")).one()
        aliases = session.exec(select(EntityAlias.name).where(EntityAlias.entity_id == entity.id))
        assert entity.name == "Société Numéro 2 S.A."
        assert entity.slug == "societe-numero-2-s-a"
        assert entity.name_key == "societe numero 2 sa"
        assert sorted(aliases.all()) == ["Numéro 2", "SN2"]


def test_the_500th_bad_row_leaves_every_table_unchanged(db, tmp_path):
    with db.writing() as session:
        make_entity(session, name="Existing Ltd")
    rows = _entity_rows(600)
    rows[499][1] = "corporation"  # row 500: not a kind
    before = _table_counts(db)
    report = import_entities(db, _write_csv(tmp_path / "e.csv", rows))
    assert not report.ok
    assert [e.row for e in report.errors] == [500]
    assert "row 500 (line 501): kind: must be one of" in str(report.errors[0])
    assert _table_counts(db) == before


def test_every_bad_row_is_listed_with_its_reason(db, tmp_path):
    rows = _entity_rows(5)
    rows[0][0] = ""
    rows[2][2] = "XX"
    rows[3][0] = "Evil\u202eCorp"
    report = import_entities(db, _write_csv(tmp_path / "e.csv", rows))
    messages = [str(e) for e in report.errors]
    assert messages[0].startswith("row 1 (line 2): name: is required")
    assert "row 3 (line 4): jurisdiction: must be an ISO 3166 code" in messages[1]
    assert "row 4 (line 5): name: contains a right-to-left override" in messages[2]
    assert len(messages) == 3
    assert report.lines()[0].startswith("error: 3 of 5 rows")


def test_dry_run_checks_and_writes_nothing(db, tmp_path):
    before = _table_counts(db)
    report = import_entities(db, _write_csv(tmp_path / "e.csv", _entity_rows(4)), dry_run=True)
    assert report.ok and report.created == 4
    assert "dry run" in report.lines()[0]
    assert _table_counts(db) == before


def test_json_lines_are_read_like_csv(db, tmp_path):
    path = tmp_path / "e.jsonl"
    lines = [
        {"name": "Stadt Köln", "kind": "government_body", "jurisdiction": "DE"},
        {
            "name": "Jane Roe",
            "kind": "official",
            "jurisdiction": "DE",
            "role_title": "Mayor",
            "body_slug": "stadt-koln",
            "term_start": "2020-05-01",
            "aliases": ["J. Roe"],
        },
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    report = import_entities(db, path)
    assert report.ok, report.lines()
    with db.session() as session:
        official = session.exec(select(Entity).where(Entity.name == "Jane Roe")).one()
        body = session.exec(select(Entity).where(Entity.slug == "stadt-koln")).one()
    assert official.body_id == body.id and official.role_title == "Mayor"


def test_unknown_columns_and_broken_json_are_refused(db, tmp_path):
    bad_header = _write_csv(
        tmp_path / "e.csv",
        [["A", "business", "GB", "x"]],
        header=["name", "kind", "jurisdiction", "colour"],
    )
    report = import_entities(db, bad_header)
    assert report.file_error and "unknown columns colour" in report.file_error
    broken = tmp_path / "e.jsonl"
    broken.write_text('{"name": "A", "kind": "business", "jurisdiction": "GB"}\n{"name": \n')
    report = import_entities(db, broken)
    assert [str(e) for e in report.errors] == [
        "row 2 (line 2): is not valid JSON (Expecting value)"
    ]


def test_records_import_publishes_and_scores(db, tmp_path):
    with db.writing() as session:
        make_agency(session)
        make_entity(session, name="Acme Widgets Ltd", registration_id="01234567")
    header = [
        "entity_registration_id",
        "category",
        "severity",
        "title",
        "decided_on",
        "penalty_amount",
        "penalty_currency",
        "source_id",
    ]
    rows = [
        ["01234567", "data_protection", "serious", "Breach", "2026-01-10", "1000", "GBP", "a"],
        ["01234567", "transparency", "minor", "Late reply", "2025-12-01", "", "", "b"],
    ]
    path = _write_csv(tmp_path / "r.csv", rows, header)
    report = import_records(db, path, agency_slug="ico")
    assert report.ok and report.created == 2, report.lines()
    with db.session() as session:
        statuses = session.exec(select(Record.status)).all()
        entity = session.exec(select(Entity)).one()
    assert statuses == [RecordStatus.PUBLISHED, RecordStatus.PUBLISHED]
    assert entity.score is not None and entity.score < 100
    again = import_records(db, path, agency_slug="ico")
    assert (again.created, again.skipped) == (0, 2)


def test_records_rows_are_checked_against_the_agency(db, tmp_path):
    with db.writing() as session:
        make_agency(session)
        make_entity(session, name="Acme Widgets Ltd")
    header = [
        "entity_slug",
        "category",
        "severity",
        "title",
        "decided_on",
        "occurred_on",
        "penalty_amount",
    ]
    rows = [
        ["acme-widgets-ltd", "environment", "minor", "Spill", "2026-01-10", "", ""],
        ["nobody", "data_protection", "minor", "X", "2026-01-10", "", ""],
        ["acme-widgets-ltd", "data_protection", "minor", "X", "2099-01-01", "", ""],
        ["acme-widgets-ltd", "data_protection", "minor", "X", "2026-01-01", "2026-02-01", ""],
        ["acme-widgets-ltd", "data_protection", "minor", "X", "2026-01-01", "", "-5"],
    ]
    report = import_records(db, _write_csv(tmp_path / "r.csv", rows, header), agency_slug="ico")
    reasons = {e.row: e.message for e in report.errors}
    assert "category: 'environment' is not one of ico's" in reasons[1]
    assert "entity_slug: no entity 'nobody'" in reasons[2]
    assert "decided_on: is in the future" in reasons[3]
    assert "decided_on: is before occurred_on" in reasons[4]
    assert "penalty_amount: must be zero or more" in reasons[5]
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(Record)).one() == 0


def test_cli_import_exits_non_zero_with_rows_listed(app, tmp_path):
    rows = _entity_rows(3)
    rows[1][1] = "shop"
    path = _write_csv(tmp_path / "e.csv", rows)
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    result = CliRunner().invoke(cli, ["import", "entities", str(path)], env=env)
    assert result.exit_code == 1
    assert "row 2 (line 3): kind: must be one of" in result.output
    assert "Traceback" not in result.output


def test_cli_errors_are_one_clear_line(app, tmp_path):
    path = _write_csv(tmp_path / "r.csv", [], ["entity_slug"])
    env = {
        **os.environ,
        "PORTAL_DATA_DIR": app.config["DATA_DIR"],
        "DATABASE_URL": app.config["DATABASE_URL"],
    }
    command = [sys.executable, "-m", "portal", "import", "records", str(path), "--agency", "nope"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: No agency has the slug 'nope'."
