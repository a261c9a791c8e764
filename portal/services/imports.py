"""All-or-nothing imports of entities and records from CSV or JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from portal.db import Database
from portal.errors import NotFound, PortalError, ValidationFailed
from portal.models import Agency, Entity, Record, utcnow
from portal.services.access import Actor
from portal.services.entities import ENTITY_COLUMNS, create_entity, parse_entity
from portal.services.records import RECORD_COLUMNS, create_record, parse_record, publish_record
from portal.services.scores import refresh_score

MAX_ERRORS_SHOWN = 200


class _Rollback(Exception):
    """Raised inside the transaction to undo a dry run or a failed import."""


@dataclass
class RowError:
    """Why one row of a file cannot be imported."""

    row: int
    line: int
    message: str

    def __str__(self) -> str:
        """`row 500 (line 501): severity: must be one of ...`."""
        return f"row {self.row} (line {self.line}): {self.message}"


@dataclass
class ImportReport:
    """What an import did, or would do, and every bad row."""

    what: str
    file: str
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    file_error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every row is valid and the file could be read."""
        return not self.errors and not self.file_error

    def lines(self) -> list[str]:
        """The report as lines for a terminal."""
        if self.file_error:
            return [f"error: {self.file}: {self.file_error}; nothing was imported."]
        if self.errors:
            head = (
                f"error: {len(self.errors)} of {self.rows} rows of {self.file} are invalid; "
                "nothing was imported."
            )
            shown = [f"  {e}" for e in self.errors[:MAX_ERRORS_SHOWN]]
            more = len(self.errors) - MAX_ERRORS_SHOWN
            return [head, *shown, *([f"  ... and {more} more"] if more > 0 else [])]
        verb = "would import" if self.dry_run else "imported"
        tail = f", {self.skipped} already present" if self.skipped else ""
        note = " (dry run: nothing written)" if self.dry_run else ""
        return [
            f"{self.file}: {self.rows} rows checked; {verb} {self.created} {self.what}{tail}{note}."
        ]


def read_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """Yield (row number, line number, row) from a CSV or JSON Lines file."""
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PortalError(f"the file is not UTF-8 text (byte {exc.start} cannot be read)") from None
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        yield from _json_lines(content, columns)
    else:
        yield from _csv_rows(content, columns)


def _check_columns(found: list[str], columns: tuple[str, ...]) -> None:
    """Refuse files whose columns we do not know: they would be silently lost."""
    unknown = [c for c in found if c not in columns]
    if unknown:
        raise PortalError(
            f"unknown columns {', '.join(unknown)}; expected some of {', '.join(columns)}"
        )


def _csv_rows(content: str, columns: tuple[str, ...]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """Rows of a CSV file with a header line."""
    reader = csv.DictReader(io.StringIO(content, newline=""))
    _check_columns([c.strip() for c in reader.fieldnames or []], columns)
    for number, row in enumerate(reader, start=1):
        extra = row.pop(None, None)  # type: ignore[call-overload]
        clean = {k.strip(): v for k, v in row.items() if k is not None}
        if extra:
            clean["__error__"] = f"has {len(extra)} more cells than the header"
        yield number, reader.line_num, clean


def _json_lines(
    content: str, columns: tuple[str, ...]
) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """Rows of a JSON Lines file, one object per non-empty line."""
    number = 0
    for line_no, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        number += 1
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield number, line_no, {"__error__": f"is not valid JSON ({exc.msg})"}
            continue
        if not isinstance(obj, dict):
            yield number, line_no, {"__error__": "is not a JSON object"}
            continue
        _check_columns(list(obj), columns)
        yield number, line_no, {k: _as_text(v) for k, v in obj.items()}


def _as_text(value: Any) -> str | None:
    """JSON values as the strings the field parsers read."""
    if value is None:
        return None
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return str(value)


def _describe(exc: PortalError) -> str:
    """One line for a row's failure, naming each bad field."""
    if isinstance(exc.details, Mapping) and exc.details:
        return "; ".join(f"{key}: {reason}" for key, reason in exc.details.items())
    return exc.message


def _run_import(
    db: Database,
    report: ImportReport,
    rows: Iterator[tuple[int, int, dict[str, Any]]],
    handle: Callable[[Session, dict[str, Any]], bool],
    finish: Callable[[Session], None] = lambda session: None,
) -> ImportReport:
    """Apply `handle` to every row in one transaction; keep nothing unless all succeed."""
    try:
        with db.writing() as session:
            for number, line, row in rows:
                report.rows += 1
                try:
                    if "__error__" in row:
                        raise PortalError(row["__error__"])
                    with session.begin_nested():
                        created = handle(session, row)
                    report.created += int(created)
                    report.skipped += int(not created)
                except PortalError as exc:
                    report.errors.append(RowError(number, line, _describe(exc)))
            if report.errors or report.dry_run:
                raise _Rollback
            finish(session)
    except _Rollback:
        pass
    except PortalError as exc:
        report.file_error = exc.message
    return report


def import_entities(db: Database, path: Path, dry_run: bool = False) -> ImportReport:
    """Import entities; one bad row and nothing is written."""
    actor = Actor.cli("import")
    report = ImportReport("entities", path.name, dry_run=dry_run)

    def handle(session: Session, row: dict[str, Any]) -> bool:
        create_entity(session, actor, parse_entity(row))
        return True

    return _run_import(db, report, read_rows(path, ENTITY_COLUMNS), handle)


def import_records(
    db: Database, path: Path, agency_slug: str, dry_run: bool = False
) -> ImportReport:
    """Import and publish one agency's records; one bad row and nothing is written."""
    actor = Actor.cli("import")
    report = ImportReport("records", path.name, dry_run=dry_run)
    with db.session() as session:
        agency = session.exec(select(Agency).where(Agency.slug == agency_slug)).first()
    if agency is None:
        raise NotFound(f"No agency has the slug {agency_slug!r}.")
    today = utcnow().date()
    touched: set[int] = set()

    def handle(session: Session, row: dict[str, Any]) -> bool:
        data = parse_record(row, agency, today)
        entity = _find_entity(session, row)
        if data.source_id and _already_imported(session, agency, data.source_id):
            return False
        record = create_record(session, actor, agency, entity, data)
        publish_record(session, actor, record, rescore=False)
        touched.add(entity.id or 0)
        return True

    def finish(session: Session) -> None:
        for entity_id in sorted(touched):
            refresh_score(session, entity_id)

    return _run_import(db, report, read_rows(path, RECORD_COLUMNS), handle, finish)


def _find_entity(session: Session, row: Mapping[str, Any]) -> Entity:
    """The entity a record row names, by slug or by a registration id held by one entity."""
    slug = (row.get("entity_slug") or "").strip()
    reg_id = (row.get("entity_registration_id") or "").strip()
    if slug:
        entity = session.exec(select(Entity).where(Entity.slug == slug)).first()
        if entity is None:
            raise ValidationFailed("unknown entity", {"entity_slug": f"no entity {slug!r}"})
        return entity
    if not reg_id:
        raise ValidationFailed(
            "no entity", {"entity_slug": "or entity_registration_id is required"}
        )
    matches = session.exec(select(Entity).where(Entity.registration_id == reg_id).limit(2)).all()
    if len(matches) != 1:
        reason = "matches no entity" if not matches else "matches more than one entity"
        raise ValidationFailed("entity", {"entity_registration_id": f"{reg_id!r} {reason}"})
    return matches[0]


def _already_imported(session: Session, agency: Agency, source_id: str) -> bool:
    """True when this agency already has a record with this source id."""
    found = session.exec(
        select(Record.id).where(Record.agency_id == agency.id, Record.source_id == source_id)
    ).first()
    return found is not None
