"""The entry points of an import, all or nothing: the CLI and the web upload share them.

- `preview_import(db, source, actor=..., ...)`: a dry run; writes nothing, reports what would
  happen.
- `run_import(db, source, actor=..., ...)`: the import itself, in one transaction.
- `import_entities`, `import_records` (our own columns, row by row through the domain
  services) and `import_mapped_records` (through a mapping: plan, then write in bulk),
  which `run_import` chooses between.

The actor is always given: the CLI passes its operator, the web upload the
signed-in regulator. Problems of the request (an unknown mapping, agency or
parameter) raise a PortalError; problems of the file (too large, not text, bad
rows, an actor not allowed) come back in the report, and then nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlmodel import Session, select

from portal.db import Database
from portal.errors import NotFound, PortalError, ValidationFailed
from portal.models import Agency, Entity, Record, utcnow
from portal.services.access import Actor
from portal.services.entities import create_entity, entity_for_row, parse_entity
from portal.services.imports.columns import ENTITY_COLUMNS, RECORD_COLUMNS
from portal.services.imports.mapping import ColumnMapping, load_mapping
from portal.services.imports.plan import MappedImport, Rollback
from portal.services.imports.read import (
    DEFAULT_MAX_BYTES,
    Row,
    Source,
    decode,
    file_format,
    known_columns,
    read_rows,
    read_source,
    source_name,
)
from portal.services.imports.report import ImportReport, RowError, describe
from portal.services.records import create_record, parse_record, publish_record
from portal.services.scores import refresh_score


def run_import(
    db: Database,
    source: Source,
    *,
    actor: Actor,
    what: str = "records",
    mapping: ColumnMapping | str | Path | None = None,
    agency_slug: str | None = None,
    params: Mapping[str, str] | None = None,
    dry_run: bool = False,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    filename: str | None = None,
) -> ImportReport:
    """Import a file or an uploaded body: entities, or records (in our columns or mapped)."""
    options: dict[str, Any] = {
        "actor": actor,
        "dry_run": dry_run,
        "max_bytes": max_bytes,
        "filename": filename,
    }
    if what == "entities":
        if mapping is not None:
            raise ValidationFailed("Mappings are for records.", {"mapping": "not for entities"})
        return import_entities(db, source, **options)
    if what != "records":
        raise ValidationFailed("Unknown import.", {"what": "must be entities or records"})
    if mapping is not None:
        return import_mapped_records(
            db, source, mapping, agency_slug=agency_slug, params=params, **options
        )
    if not agency_slug:
        raise ValidationFailed("Which agency?", {"agency": "is required without a mapping"})
    return import_records(db, source, agency_slug, **options)


def preview_import(db: Database, source: Source, *, actor: Actor, **options: Any) -> ImportReport:
    """What `run_import` with the same options would do, writing nothing."""
    return run_import(db, source, actor=actor, **{**options, "dry_run": True})


def import_mapped_records(
    db: Database,
    source: Source,
    mapping: ColumnMapping | str | Path,
    *,
    actor: Actor,
    agency_slug: str | None = None,
    params: Mapping[str, str] | None = None,
    dry_run: bool = False,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    filename: str | None = None,
) -> ImportReport:
    """Import an agency's own export through a column mapping; all rows or nothing."""
    started = perf_counter()
    loaded = mapping if isinstance(mapping, ColumnMapping) else load_mapping(mapping)
    name = source_name(source, filename)
    report = ImportReport("records", name, dry_run=dry_run, mapping=loaded.name)
    job = MappedImport(loaded, actor, agency_slug, params or {}, report)
    try:
        text = decode(read_source(source, max_bytes), loaded.encoding)
        fmt = file_format(name, loaded.format)
        rows = read_rows(text, fmt, job.header_check() if fmt == "csv" else None, loaded.delimiter)
        if dry_run:
            with db.session() as session:
                job.plan(session, rows)
        else:
            with db.writing() as session:
                job.plan(session, rows)
                job.write(session)
    except Rollback:
        pass
    except PortalError as exc:
        report.file_error = exc.message
    report.seconds = perf_counter() - started
    return report


def _run_rows(
    db: Database,
    report: ImportReport,
    rows: Callable[[], Iterator[Row]],
    handle: Callable[[Session, dict[str, Any]], bool],
    finish: Callable[[Session], None] = lambda session: None,
) -> ImportReport:
    """Apply `handle` to every row in one transaction; keep nothing unless all succeed."""
    started = perf_counter()
    try:
        with db.writing() as session:
            for number, line, row in rows():
                report.rows += 1
                try:
                    if "__error__" in row:
                        raise PortalError(row["__error__"])
                    with session.begin_nested():
                        created = handle(session, row)
                    report.created += int(created)
                    report.present += int(not created)
                except PortalError as exc:
                    report.errors.append(RowError(number, line, describe(exc)))
            if report.errors or report.dry_run:
                raise Rollback
            finish(session)
    except Rollback:
        pass
    except PortalError as exc:
        report.file_error = exc.message
    report.seconds = perf_counter() - started
    return report


def _plain_rows(source: Source, name: str, columns: tuple[str, ...], max_bytes: int | None):
    """A reader of a file in our own columns (called inside the import, so errors are reported)."""

    def rows() -> Iterator[Row]:
        """Rows of the file, its columns checked."""
        text = decode(read_source(source, max_bytes))
        return read_rows(text, file_format(name), known_columns(columns))

    return rows


def import_entities(
    db: Database,
    path: Source,
    *,
    actor: Actor,
    dry_run: bool = False,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    filename: str | None = None,
) -> ImportReport:
    """Import entities; one bad row and nothing is written."""
    name = source_name(path, filename)
    report = ImportReport("entities", name, dry_run=dry_run)

    def handle(session: Session, row: dict[str, Any]) -> bool:
        """Create one entity."""
        create_entity(session, actor, parse_entity(row))
        return True

    rows = _plain_rows(path, name, ENTITY_COLUMNS, max_bytes)
    return _run_rows(db, report, rows, handle)


def import_records(
    db: Database,
    path: Source,
    agency_slug: str,
    *,
    actor: Actor,
    dry_run: bool = False,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    filename: str | None = None,
) -> ImportReport:
    """Import and publish one agency's records in our columns; all rows or nothing."""
    name = source_name(path, filename)
    report = ImportReport("records", name, dry_run=dry_run)
    with db.session() as session:
        agency = session.exec(select(Agency).where(Agency.slug == agency_slug)).first()
    if agency is None:
        raise NotFound(f"No agency has the slug {agency_slug!r}.")
    today = utcnow().date()
    touched: set[int] = set()
    cache = _PlainCache(agency)

    def handle(session: Session, row: dict[str, Any]) -> bool:
        """Create and publish one record, unless its source id is already there."""
        data = parse_record(row, agency, today)
        entity = cache.entity(session, row)
        if data.source_id and not cache.claim(session, data.source_id):
            return False
        record = create_record(session, actor, agency, entity, data)
        publish_record(session, actor, record, rescore=False)
        touched.add(entity.id or 0)
        return True

    def finish(session: Session) -> None:
        """Rescore each touched entity once."""
        for entity_id in sorted(touched):
            refresh_score(session, entity_id)

    rows = _plain_rows(path, name, RECORD_COLUMNS, max_bytes)
    return _run_rows(db, report, rows, handle, finish)


class _PlainCache:
    """Entities by slug or registration id, and the agency's source ids, each read once."""

    def __init__(self, agency: Agency) -> None:
        """Nothing read yet."""
        self.agency = agency
        self._entities: dict[tuple[str, str], Entity] = {}
        self._source_ids: set[str] | None = None

    def claim(self, session: Session, source_id: str) -> bool:
        """True (and remembered) when no record of the agency has this source id yet."""
        if self._source_ids is None:
            found = session.exec(
                select(Record.source_id).where(Record.agency_id == self.agency.id)
            ).all()
            self._source_ids = {s for s in found if s}
        if source_id in self._source_ids:
            return False
        self._source_ids.add(source_id)
        return True

    def entity(self, session: Session, row: Mapping[str, Any]) -> Entity:
        """The entity a record row names, by slug or by a registration id held by one entity."""
        slug = (row.get("entity_slug") or "").strip()
        reg_id = (row.get("entity_registration_id") or "").strip()
        key = ("slug", slug) if slug else ("registration_id", reg_id)
        if key not in self._entities:
            self._entities[key] = entity_for_row(session, row)
        return self._entities[key]
