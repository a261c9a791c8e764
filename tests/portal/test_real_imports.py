"""The shipped mappings import the real data sets in shared/data in full, messy rows and all."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from portal.models import Agency, AuditEvent, Entity, Record, RecordRevision
from portal.services.entities import create_entity
from portal.services.imports.mapping import load_mapping
from portal.services.imports.match import NewEntity
from portal.services.imports.plan import MappedImport
from portal.services.imports.read import read_rows
from portal.services.imports.report import ImportReport
from portal.services.imports.run import run_import
from portal.services.records import create_record, publish_record
from search.names import name_key
from tests.conftest import SHARED
from tests.factories import IMPORTER, make_entity

GDPR = SHARED / "gdpr-fines" / "gdpr_fines.csv"
NYC = SHARED / "nyc-restaurant-inspections" / "inspections.csv"
NYC_DAY = {"decided_on": "2019-12-31"}
GARBLED = ("퉌", "퀌", "\ufffd", "\x1a")

needs_data = pytest.mark.skipif(
    not (GDPR.is_file() and NYC.is_file()), reason=f"the real data sets are not in {SHARED}"
)


def _rows(path: Path) -> list[dict[str, str]]:
    """The file's rows as the csv module reads them, to count independently."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _counts(db) -> dict[str, int]:
    """Row counts of every table."""
    with db.session() as session:
        return {
            name: session.exec(select(func.count()).select_from(table)).one()
            for name, table in SQLModel.metadata.tables.items()
        }


def _accounted(report: ImportReport, total: int) -> None:
    """Every row imported, already present, skipped with a reason, or refused."""
    assert report.ok, report.lines()[:5]
    assert report.rows == total
    assert report.created + report.present + len(report.skipped) + len(report.errors) == total
    assert all(s.row >= 1 and s.reason for s in report.skipped)


@needs_data
@pytest.mark.slow
def test_the_gdpr_fines_import_in_full(db):
    rows = _rows(GDPR)
    before = _counts(db)
    preview = run_import(db, GDPR, actor=IMPORTER, mapping="gdpr-fines", dry_run=True)
    assert _counts(db) == before
    _accounted(preview, len(rows))
    report = run_import(db, GDPR, actor=IMPORTER, mapping="gdpr-fines")
    _accounted(report, len(rows))
    assert (report.created, report.present) == (preview.created, 0)
    assert len(report.agencies_created) == len(preview.agencies_created) > 20
    skipped = {s.row for s in report.skipped}
    placeholders = {"unknown", "private individual", "private person", "bank", "employer"}
    for number, row in enumerate(rows, start=1):
        if name_key(row["controller_processor"]) in placeholders:
            assert number in skipped
    _check_vodafone(db, rows, skipped)
    after = _counts(db)
    again = run_import(db, GDPR, actor=IMPORTER, mapping="gdpr-fines")
    assert (again.created, again.present) == (0, report.created)
    assert _counts(db) == after


def _check_vodafone(db, rows: list[dict[str, str]], skipped: set[int]) -> None:
    """All 42 rows naming "Vodafone España, S.A.U." are one entity's records.

    name_key folds "S.A.U.", "Sau" and "SAU" alike, so the 8 rows spelled
    "Vodafone España, Sau" and the one "Vodafone España Sau" join it too.
    """
    exact = [
        n for n, r in enumerate(rows, 1) if r["controller_processor"] == "Vodafone España, S.A.U."
    ]
    key = name_key("Vodafone España, S.A.U.")
    same = [n for n, r in enumerate(rows, 1) if name_key(r["controller_processor"]) == key]
    assert len(exact) == 42 and len(same) == 51
    ids = {rows[n - 1]["etid"] for n in same if n not in skipped}
    with db.session() as session:
        entity = session.exec(select(Entity).where(Entity.name == "Vodafone España, S.A.U.")).one()
        source_ids = session.exec(select(Record.source_id).where(Record.entity_id == entity.id))
        assert set(source_ids.all()) == ids
        twins = session.exec(select(Entity).where(Entity.name_key == key)).all()
    assert [e.id for e in twins] == [entity.id]
    assert entity.jurisdiction_code == "ES" and entity.kind == "business"
    assert entity.score is not None  # rescored once at the end (2018-21 fines may have lapsed)


@needs_data
@pytest.mark.slow
def test_the_nyc_inspections_import_in_full(db):
    rows = _rows(NYC)
    before = _counts(db)
    preview = run_import(
        db, NYC, actor=IMPORTER, mapping="nyc-restaurant-inspections", params=NYC_DAY, dry_run=True
    )
    assert _counts(db) == before
    _accounted(preview, len(rows))
    report = run_import(
        db, NYC, actor=IMPORTER, mapping="nyc-restaurant-inspections", params=NYC_DAY
    )
    _accounted(report, len(rows))
    no_violation = [n for n, r in enumerate(rows, 1) if not r["VIOLATION DESCRIPTION"].strip()]
    assert [s.row for s in report.skipped] == no_violation
    assert report.created == len(rows) - len(no_violation)
    with db.session() as session:
        texts = session.exec(select(Record.title, Record.summary)).all()
        names = session.exec(select(Entity.name)).all()
        dunkin = session.exec(
            select(Entity.slug, Entity.address).where(Entity.name == "DUNKIN' DONUTS")
        ).all()
    assert not [t for t in texts for part in t if any(g in (part or "") for g in GARBLED)]
    assert not [n for n in names if any(g in n for g in GARBLED)]
    assert "UNCLE LOUIE G'S ITALIAN ICES & ICE CREAM" in names
    assert len(dunkin) > 50 and all(slug.startswith("dunkin-donuts-1") for slug, _ in dunkin)
    after = _counts(db)
    again = run_import(
        db, NYC, actor=IMPORTER, mapping="nyc-restaurant-inspections", params=NYC_DAY
    )
    assert (again.created, again.present) == (0, report.created)
    assert _counts(db) == after


def _state(session: Session, since_seq: int) -> dict[str, list]:
    """What an import wrote, without ids, times, refs and hashes, to compare two ways."""
    slugs = dict(session.exec(select(Entity.id, Entity.slug)).all())
    skip = {"id", "created_at", "updated_at", "published_at", "ref", "entity_id", "record_id"}

    def plain(row: SQLModel) -> dict:
        """A row's comparable columns."""
        return {k: v for k, v in row.model_dump().items() if k not in skip}

    events = session.exec(select(AuditEvent).where(AuditEvent.seq > since_seq).order_by("seq"))
    return {
        "entities": sorted((plain(e) for e in session.exec(select(Entity))), key=_text),
        "records": [
            {**plain(r), "entity": slugs[r.entity_id]}
            for r in session.exec(select(Record).order_by(col(Record.source_id)))
        ],
        "revisions": sorted((plain(r) for r in session.exec(select(RecordRevision))), key=_text),
        "events": [_event(e, slugs) for e in events],
    }


def _text(row: dict) -> str:
    """A row as sortable text, whatever the order of its keys."""
    return json.dumps(row, sort_keys=True, default=str)


def _event(event: AuditEvent, slugs: dict[int, str]) -> tuple:
    """An event's action and payload, with the varying parts taken out."""
    payload = json.loads(event.payload)
    record = payload.get("record", {})
    for key in ("ref", "entity_id", "agency_id", "published_at"):
        record.pop(key, None)
    object_id = "R" if event.object_type == "record" else event.object_id
    return (event.action, event.actor, object_id, slugs.get(event.entity_id or 0), payload)


def test_the_bulk_write_writes_what_the_services_write(db, tmp_path):
    with db.writing() as session:
        make_entity(session, name="Acme Ibérica, S.L.", jurisdiction="ES")
        session.add(Agency(slug="tdpa", name="T", jurisdiction_code="ES", categories=["dp"]))
    export = tmp_path / "export.csv"
    export.write_text(
        "id,who,what,when,level,fine\n"
        "a1,ACME IBERICA SL,Cookies,2021-02-03,low,1500\n"
        "a2,Nueva Empresa S.A.,Breach,2021-02-04,high,\n"
        'a3,"Nueva Empresa, SA",Late reply,2021-02-06,low,20.50\n',
        encoding="utf-8",
    )
    mapping = load_mapping(_test_mapping(tmp_path))
    with db.session() as session:
        head = session.exec(select(func.max(AuditEvent.seq))).one() or 0
    with db.writing() as session:
        _write_through_services(session, mapping, export)
        by_services = _state(session, head)
        session.rollback()
    report = run_import(db, export, actor=IMPORTER, mapping=mapping)
    assert report.ok and report.created == 3, report.lines()
    with db.session() as session:
        assert _state(session, head) == by_services


def _write_through_services(session: Session, mapping, export: Path) -> None:
    """The plan of a mapped import written row by row through the services."""
    actor = IMPORTER
    job = MappedImport(mapping, actor, None, {}, ImportReport("records", export.name))
    job.plan(session, read_rows(export.read_text(), "csv"))
    for item in job.planned:
        ref = item.entity
        if isinstance(ref, NewEntity) and ref.id is None:
            ref.id = create_entity(session, actor, ref.data).id
        entity = session.get(Entity, ref.id)
        agency = session.exec(select(Agency).where(Agency.slug == item.agency)).one()
        record = create_record(session, actor, agency, entity, item.data)
        publish_record(session, actor, record)
    session.flush()


def _test_mapping(tmp_path: Path) -> Path:
    """A small mapping onto an existing agency."""
    path = tmp_path / "t.toml"
    path.write_text(
        'agency = "tdpa"\n'
        "[entity]\n"
        'name = { column = "who" }\n'
        'jurisdiction = "ES"\n'
        "[record]\n"
        'source_id = { column = "id" }\n'
        'category = "dp"\n'
        'title = { column = "what" }\n'
        'decided_on = { column = "when" }\n'
        'severity = { column = "level", map = { low = "minor", high = "serious" } }\n'
        'penalty_amount = { column = "fine" }\n'
        'penalty_currency = { value = "EUR", only_if = "fine" }\n',
        encoding="utf-8",
    )
    return path
