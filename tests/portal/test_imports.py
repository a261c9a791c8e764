"""Imports are all-or-nothing and name every bad row by its number."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import func
from sqlmodel import SQLModel, select

from portal.cli import cli
from portal.models import Entity, EntityAlias, Record, RecordStatus, Role
from portal.services.access import Actor
from portal.services.imports.mapping import load_mapping
from portal.services.imports.run import import_entities, import_records, preview_import, run_import
from portal.services.imports.specs import MappingError
from tests.factories import IMPORTER, make_agency, make_entity

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
    report = import_entities(db, _write_csv(tmp_path / "e.csv", _entity_rows(3)), actor=IMPORTER)
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
    report = import_entities(db, _write_csv(tmp_path / "e.csv", rows), actor=IMPORTER)
    assert not report.ok
    assert [e.row for e in report.errors] == [500]
    assert "row 500 (line 501): kind: must be one of" in str(report.errors[0])
    assert _table_counts(db) == before


def test_every_bad_row_is_listed_with_its_reason(db, tmp_path):
    rows = _entity_rows(5)
    rows[0][0] = ""
    rows[2][2] = "XX"
    rows[3][0] = "Evil\u202eCorp"
    report = import_entities(db, _write_csv(tmp_path / "e.csv", rows), actor=IMPORTER)
    messages = [str(e) for e in report.errors]
    assert messages[0].startswith("row 1 (line 2): name: is required")
    assert "row 3 (line 4): jurisdiction: must be an ISO 3166 code" in messages[1]
    assert "row 4 (line 5): name: contains a right-to-left override" in messages[2]
    assert len(messages) == 3
    assert report.lines()[0].startswith("error: 3 of 5 rows")


def test_dry_run_checks_and_writes_nothing(db, tmp_path):
    before = _table_counts(db)
    report = import_entities(
        db, _write_csv(tmp_path / "e.csv", _entity_rows(4)), actor=IMPORTER, dry_run=True
    )
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
    report = import_entities(db, path, actor=IMPORTER)
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
    report = import_entities(db, bad_header, actor=IMPORTER)
    assert report.file_error and "unknown columns colour" in report.file_error
    broken = tmp_path / "e.jsonl"
    broken.write_text('{"name": "A", "kind": "business", "jurisdiction": "GB"}\n{"name": \n')
    report = import_entities(db, broken, actor=IMPORTER)
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
    report = import_records(db, path, actor=IMPORTER, agency_slug="ico")
    assert report.ok and report.created == 2, report.lines()
    with db.session() as session:
        statuses = session.exec(select(Record.status)).all()
        entity = session.exec(select(Entity)).one()
    assert statuses == [RecordStatus.PUBLISHED, RecordStatus.PUBLISHED]
    assert entity.score is not None and entity.score < 100
    again = import_records(db, path, actor=IMPORTER, agency_slug="ico")
    assert (again.created, again.present) == (0, 2)


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
    report = import_records(
        db, _write_csv(tmp_path / "r.csv", rows, header), actor=IMPORTER, agency_slug="ico"
    )
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


# Column mappings: an agency's own export format.

MAPPING = """\
agency = "tdpa"

[mapping]
description = "A test authority's export"

[[agencies]]
slug = "tdpa"
name = "Test Data Protection Authority"
jurisdiction = "ES"
categories = ["data_protection"]

[entity]
name = { column = "who" }
jurisdiction = "ES"
placeholders = ["Unknown", "Private Person"]

[record]
source_id = { column = "id" }
category = "data_protection"
title = { column = "what" }
decided_on = { column = "when", date_format = "%d/%m/%Y" }
severity = { column = "level", map = { low = "minor", high = "serious" } }
penalty_amount = { column = "fine" }
penalty_currency = { value = "EUR", only_if = "fine" }
"""
EXPORT_HEADER = ["id", "who", "what", "when", "level", "fine"]


def _mapping(tmp_path, text=MAPPING, name="tdpa.toml"):
    """Write a mapping file."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _export(tmp_path, rows, header=EXPORT_HEADER):
    """Write an agency export as CSV."""
    return _write_csv(tmp_path / "export.csv", rows, header)


BAD_MAPPINGS = [  # (text of MAPPING, replaced by, the key and the problem the error names)
    ("title =", "titel =", "record.titel", "unknown key"),
    ('"serious" }', '"serius" }', "record.severity", "'serius' must be one of"),
    ('"ES"\nplace', '"XX"\nplace', "entity.jurisdiction", "'XX' must be an ISO 3166 code"),
    ('"%d/%m/%Y"', '"%Q"', "record.decided_on.date_format", "not a usable date format"),
    ("[[agencies]]", "[[agencys]]", "agencys", "unknown key"),
    (
        '= "fine" }\npenalty_c',
        '= "fine", value = "1" }\npenalty_c',
        "record.penalty_amount",
        "one of",
    ),
    ('{ column = "fine" }', '{ param = "x" }', "record.penalty_amount.param", "not declared"),
    ('["data_protection"]', "[]", "agencies[0].categories", "must be a non-empty list"),
    ("placeholders = [", 'placeholder_patterns = ["(", ', "entity.placeholder_patterns", "regular"),
    ("[mapping]", "[mapping", None, "not a valid TOML file"),
]


@pytest.mark.parametrize(("old", "new", "key", "problem"), BAD_MAPPINGS)
def test_a_bad_mapping_fails_naming_the_file_and_the_key(tmp_path, old, new, key, problem):
    assert old in MAPPING
    path = _mapping(tmp_path, MAPPING.replace(old, new))
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    message = caught.value.message
    assert message.startswith(f"{path}: ")
    assert (key is None or f": {key}: " in message) and problem in message, message


def test_an_unknown_mapping_name_lists_the_shipped_ones():
    with pytest.raises(MappingError, match="shipped: gdpr-fines, nyc-restaurant-inspections"):
        load_mapping("no-such-mapping")


def test_a_mapped_export_matches_creates_and_skips_placeholders(db, tmp_path):
    with db.writing() as session:
        known = make_entity(session, name="Acme Ibérica, S.L.", jurisdiction="ES")
    rows = [
        ["a1", "ACME IBERICA SL", "Cookies without consent", "03/02/2021", "low", "1500"],
        ["a2", "Nueva Empresa S.A.", "Data breach", "04/02/2021", "high", ""],
        ["a3", "Unknown", "Dashcam", "05/02/2021", "low", "300"],
        ["a4", "Nueva Empresa, SA", "Late reply", "06/02/2021", "low", ""],
    ]
    report = run_import(db, _export(tmp_path, rows), actor=IMPORTER, mapping=_mapping(tmp_path))
    assert report.ok, report.lines()
    assert (report.created, report.present) == (3, 0)
    assert [(s.row, s.detail) for s in report.skipped] == [(3, "Unknown")]
    assert [e.name for e in report.entities_new] == ["Nueva Empresa S.A."]
    assert report.entities_new[0].spellings == ["Nueva Empresa S.A.", "Nueva Empresa, SA"]
    assert [e.slug for e in report.entities_matched] == [known.slug]
    assert report.agencies_created == ["tdpa"]
    with db.session() as session:
        records = session.exec(select(Record).order_by(Record.source_id)).all()
        names = session.exec(select(Entity.name)).all()
    assert [(r.source_id, r.severity, str(r.decided_on)) for r in records] == [
        ("a1", "minor", "2021-02-03"),
        ("a2", "serious", "2021-02-04"),
        ("a4", "minor", "2021-02-06"),
    ]
    assert (records[0].penalty_amount, records[0].penalty_currency) == (1500, "EUR")
    assert records[1].penalty_currency is None
    assert records[0].entity_id == known.id and records[1].entity_id == records[2].entity_id
    assert "Unknown" not in names
    assert "skipped 1 rows: names no organisation" in "\n".join(report.lines())


def test_a_bad_row_in_a_mapped_file_stops_everything(db, tmp_path):
    rows = [
        ["a1", "Uno S.L.", "Breach", "03/02/2021", "low", ""],
        ["a2", "Dos S.L.", "Breach", "31/02/2021", "medium", ""],
        ["a3", "Tres S.L.", "Breach", "03/02/2021", "high", "x"],
    ]
    before = _table_counts(db)
    report = run_import(db, _export(tmp_path, rows), actor=IMPORTER, mapping=_mapping(tmp_path))
    assert [str(e) for e in report.errors] == [
        "row 2 (line 3): record.decided_on: '31/02/2021' is not a date as %d/%m/%Y "
        "(column 'when'); record.severity: 'medium' is not in the mapping's map (column 'level')",
        "row 3 (line 4): record.penalty_amount: must be a number (got 'x') (column 'fine')",
    ]
    assert _table_counts(db) == before


def test_a_repeated_source_id_and_a_missing_column_are_refused(db, tmp_path):
    rows = [["a1", "Uno S.L.", "Breach", "03/02/2021", "low", ""]] * 2
    report = run_import(db, _export(tmp_path, rows), actor=IMPORTER, mapping=_mapping(tmp_path))
    assert [str(e) for e in report.errors] == [
        "row 2 (line 3): record.source_id: 'a1' is also on row 1"
    ]
    lacking = _export(tmp_path, [["a1", "Uno S.L."]], header=["id", "who"])
    report = run_import(db, lacking, actor=IMPORTER, mapping=_mapping(tmp_path))
    assert "lacks the columns 'fine', 'level', 'what', 'when' that mapping tdpa" in (
        report.file_error or ""
    )


def test_a_file_over_the_size_limit_is_refused_clearly(db, app, tmp_path):
    path = _export(tmp_path, [["a1", "Uno S.L.", "Breach " * 40, "03/02/2021", "low", ""]])
    before = _table_counts(db)
    report = run_import(db, path, actor=IMPORTER, mapping=_mapping(tmp_path), max_bytes=100)
    assert "more than the import limit of 100 bytes; split it" in report.file_error
    assert report.lines()[0].endswith("nothing was imported.")
    assert _table_counts(db) == before
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    args = ["import", "records", str(path), "--mapping", str(_mapping(tmp_path)), "--max-size"]
    result = CliRunner().invoke(cli, [*args, "0.0001"], env=env)
    assert result.exit_code == 1
    assert "more than the import limit" in result.output and "Traceback" not in result.output


def test_a_preview_of_an_upload_writes_nothing(db, tmp_path):
    body = _export(tmp_path, [["a1", "Uno S.L.", "Breach", "03/02/2021", "low", "9"]]).read_bytes()
    before = _table_counts(db)
    report = preview_import(
        db, body, actor=IMPORTER, mapping=_mapping(tmp_path), filename="upload.csv"
    )
    assert report.ok and report.dry_run and report.created == 1
    assert report.to_dict()["entities_new"][0]["slug"] == "uno-s-l"
    assert "would import 1 records" in report.lines()[0]
    assert _table_counts(db) == before


def test_a_per_row_agency_is_filtered_by_the_named_agency(db, tmp_path):
    text = MAPPING.replace(
        'agency = "tdpa"',
        'agency = { column = "who", map = { "Uno S.L." = "tdpa", "Dos S.L." = "other" } }',
    )
    rows = [
        ["a1", "Uno S.L.", "Breach", "03/02/2021", "low", ""],
        ["a2", "Dos S.L.", "Breach", "03/02/2021", "low", ""],
    ]
    report = run_import(
        db,
        _export(tmp_path, rows),
        actor=IMPORTER,
        mapping=_mapping(tmp_path, text),
        agency_slug="tdpa",
    )
    assert report.ok and report.created == 1
    assert [(s.row, s.reason, s.detail) for s in report.skipped] == [
        (2, "is another agency's finding (not tdpa)", "other")
    ]


def test_a_mapping_parameter_must_be_given(db, tmp_path):
    text = MAPPING.replace('{ column = "when", date_format = "%d/%m/%Y" }', '{ param = "day" }')
    text += '\n[params.day]\ndescription = "the day of the decisions"\n'
    path = _export(tmp_path, [["a1", "Uno S.L.", "Breach", "", "low", ""]])
    with pytest.raises(MappingError, match="needs --param day=VALUE: the day of the decisions"):
        run_import(db, path, actor=IMPORTER, mapping=_mapping(tmp_path, text))
    report = run_import(
        db, path, actor=IMPORTER, mapping=_mapping(tmp_path, text), params={"day": "2021-05-01"}
    )
    assert report.ok and report.created == 1


def test_an_import_names_who_acts(db, tmp_path):
    path = _write_csv(tmp_path / "e.csv", _entity_rows(1))
    with pytest.raises(TypeError, match="actor"):
        run_import(db, path, what="entities")  # no fall-back to the command-line operator
    before = _table_counts(db)
    report = import_entities(db, path, actor=Actor.anonymous())
    assert [e.message for e in report.errors] == [
        "You are not allowed to add entities to the register."
    ]
    assert _table_counts(db) == before


def test_a_regulator_cannot_create_the_mappings_agencies(db, tmp_path):
    regulator = Actor(label="reg", role=Role.REGULATOR, user_id=None, agency_id=99)
    path = _export(tmp_path, [["a1", "Uno S.L.", "Breach", "03/02/2021", "low", ""]])
    report = run_import(db, path, mapping=_mapping(tmp_path), actor=regulator)
    assert (
        report.file_error == "You are not allowed to add the agency Test Data Protection Authority."
    )


def test_cli_imports_through_a_mapping(app, tmp_path):
    path = _export(tmp_path, [["a1", "Uno S.L.", "Breach", "03/02/2021", "high", "120000"]])
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    args = ["import", "records", str(path), "--mapping", str(_mapping(tmp_path))]
    dry = CliRunner().invoke(cli, [*args, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would import 1 records" in dry.output and "would create 1: tdpa" in dry.output
    done = CliRunner().invoke(cli, args, env=env)
    assert done.exit_code == 0 and "imported 1 records" in done.output
    again = CliRunner().invoke(cli, args, env=env)
    assert "imported 0 records, 1 already present" in again.output
    no_agency = CliRunner().invoke(cli, ["import", "records", str(path)], env=env)
    assert no_agency.exit_code == 2 and "--agency is required without --mapping" in no_agency.output


def test_cli_passes_parameters_to_the_mapping(app, tmp_path):
    text = MAPPING.replace(
        '{ column = "when", date_format = "%d/%m/%Y" }', '{ param = "decided_on" }'
    )
    mapping = _mapping(tmp_path, text + '\n[params.decided_on]\ndescription = "the day"\n')
    path = _export(tmp_path, [["a1", "Uno S.L.", "Breach", "", "low", ""]])
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    args = ["import", "records", str(path), "--mapping", str(mapping), "--dry-run"]
    assert CliRunner().invoke(cli, [*args, "--decided-on", "2021-05-01"], env=env).exit_code == 0
    assert (
        CliRunner().invoke(cli, [*args, "--param", "decided_on=2021-05-01"], env=env).exit_code == 0
    )
    bad = CliRunner().invoke(cli, [*args, "--param", "decided_on"], env=env)
    assert bad.exit_code == 2 and "--param takes NAME=VALUE" in bad.output


def test_a_named_agency_must_exist(db, tmp_path):
    path = _export(tmp_path, [["a1", "Uno S.L.", "Breach", "03/02/2021", "low", ""]])
    report = run_import(db, path, actor=IMPORTER, mapping=_mapping(tmp_path), agency_slug="nope")
    assert report.file_error == "No agency has the slug 'nope'."
