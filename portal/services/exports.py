"""Bulk exports of the public register: rows streamed in batches, in the import columns.

Every export reads one transaction (one snapshot on SQLite) in keyset-paged
batches, so memory stays flat whatever the size of the register. Only public
data leaves: records that are published or under appeal, never drafts, never
withdrawn or overturned ones, and nothing about an official whose records have
left public view (DESIGN.md principle 5). Merged duplicates are left out; their
records belong to the entity they were merged into.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from portal.errors import NotFound, PortalError
from portal.models import (
    PUBLIC_STATUSES,
    Agency,
    Entity,
    EntityAlias,
    EntityKind,
    Jurisdiction,
    Record,
    utcnow,
)
from portal.services.audit import chain_head
from portal.services.imports.columns import ENTITY_COLUMNS, RECORD_COLUMNS
from portal.services.measures import measure_in_force
from portal.services.public import records_in_view
from scoring.model import MEASURES, NATURES, SEVERITIES

BATCH = 2000
Row = dict[str, Any]

# Derived columns after the import columns; the importer refuses them, so
# `?columns=import` leaves them out and the file can be imported again.
ENTITY_EXTRA = ("score", "band", "trusted", "watchlist", "under_sanction", "score_rulebook")
RECORD_EXTRA = (
    "ref", "agency", "status", "published_at", "remediated_on", "revision",
    "lifted_on", "lifted_reason", "in_force_now",
)  # fmt: skip
VARIANTS = ("full", "import")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(value: str) -> str:
    """A cell a spreadsheet will not run: formula-like text gets a leading `'`."""
    if value and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def columns_for(what: str, variant: str) -> tuple[str, ...]:
    """The export's columns: the import set, then (unless `import`) the derived ones."""
    if variant not in VARIANTS:
        raise PortalError("columns must be full or import.", {"columns": variant[:20]})
    base, extra = (
        (ENTITY_COLUMNS, ENTITY_EXTRA) if what == "entities" else (RECORD_COLUMNS, RECORD_EXTRA)
    )
    return base if variant == "import" else base + extra


def export_etag(session: Session, *parts: str) -> str:
    """Change-log head seq, day (scores age daily) and format: same tag, same bytes."""
    seq, _hash = chain_head(session)
    return "-".join((str(seq), utcnow().date().isoformat(), *parts))


def agency_id_for(session: Session, slug: str | None) -> int | None:
    """The id of the agency an export is filtered to; NotFound for an unknown slug."""
    if not slug:
        return None
    found = session.connection().execute(select(Agency.id).where(Agency.slug == slug)).first()
    if found is None:
        raise NotFound(f"No agency has the slug {slug!r}.")
    return int(found[0])


def agency_list(session: Session, page: int, per_page: int) -> tuple[list[Agency], int]:
    """A page of agencies by name, and how many there are."""
    total = session.exec(sm_select(func.count()).select_from(Agency)).one()
    rows = session.exec(
        sm_select(Agency)
        .order_by(col(Agency.name), col(Agency.id))
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), int(total)


def jurisdiction_list(session: Session) -> list[Jurisdiction]:
    """Every jurisdiction, by code."""
    return list(session.exec(sm_select(Jurisdiction).order_by(col(Jurisdiction.code))).all())


@lru_cache(maxsize=4096)
def _official_in_view(jurisdiction: str, term_end: date | None, today: date) -> bool:
    """Whether an official's records are still public (cached: few distinct inputs)."""
    probe = Entity(kind="official", jurisdiction_code=jurisdiction, term_end=term_end)
    return records_in_view(probe, today)


def in_view(kind: str, jurisdiction: str, term_end: date | None, today: date) -> bool:
    """False for an official past the retention period; True for everyone else."""
    return kind != "official" or _official_in_view(jurisdiction, term_end, today)


def _batches(session: Session, stmt: Select[Any], key: Any, batch: int) -> Iterator[list[Any]]:
    """Keyset-paged rows of `stmt` by the integer column `key`, one list per batch."""
    last = 0
    conn = session.connection()
    while True:
        rows = conn.execute(stmt.where(col(key) > last).order_by(col(key)).limit(batch)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


_ENTITY_FIELDS = (
    "id", "name", "kind", "slug", "sector", "registration_id", "address", "website",
    "role_title", "term_start", "term_end", "score", "band", "trusted", "watchlist",
    "under_sanction", "score_rulebook",
)  # fmt: skip
_RECORD_FIELDS = (
    "id", "ref", "nature", "category", "severity", "title", "summary", "statute",
    "occurred_on", "decided_on", "published_at", "penalty_amount", "penalty_currency",
    "source_url", "source_id", "remediated_on", "status", "revision", "measure",
    "in_force_from", "in_force_until", "lifted_on", "lifted_reason", "case_agency", "case_id",
)  # fmt: skip


def _entity_select() -> Select[Any]:
    """Entities with their parent's and body's slug and the body's name."""
    parent, body = aliased(Entity), aliased(Entity)
    return (
        select(
            *(getattr(Entity, name) for name in _ENTITY_FIELDS),
            col(Entity.jurisdiction_code).label("jurisdiction"),
            col(parent.slug).label("parent_slug"),
            col(body.slug).label("body_slug"),
            col(body.name).label("_body_name"),
        )
        .outerjoin(parent, col(parent.id) == Entity.parent_id)
        .outerjoin(body, col(body.id) == Entity.body_id)
        .where(col(Entity.merged_into_id).is_(None))
    )


def _aliases(session: Session, ids: list[int]) -> dict[int, list[tuple[str, bool]]]:
    """Each entity's other names (alias or former name), in the order they were added."""
    found: dict[int, list[tuple[str, bool]]] = {}
    rows = session.connection().execute(
        select(EntityAlias.entity_id, EntityAlias.name, EntityAlias.former)
        .where(col(EntityAlias.entity_id).in_(ids))
        .order_by(col(EntityAlias.id))
    )
    for entity_id, name, former in rows:
        found.setdefault(entity_id, []).append((name, bool(former)))
    return found


def entity_rows(session: Session, today: date | None = None, batch: int = BATCH) -> Iterator[Row]:
    """Every public entity as a row keyed by export column (plus internal extras)."""
    day = today or utcnow().date()
    for rows in _batches(session, _entity_select(), Entity.id, batch):
        names = _aliases(session, [r.id for r in rows])
        for r in rows:
            row = r._asdict()
            row["kind"] = str(r.kind)
            if not in_view(row["kind"], r.jurisdiction, r.term_end, day):
                continue
            other = names.get(r.id, [])
            row["aliases"] = [name for name, _former in other]
            row["_former"] = [name for name, former in other if former]
            yield row


def _record_select(agency_id: int | None, violations_only: bool) -> Select[Any]:
    """Public records with their entity's slug, kind and term, their agency and case."""
    origin = aliased(Record)
    stmt = (
        select(
            *(getattr(Record, name) for name in _RECORD_FIELDS),
            col(origin.ref).label("case_record"),
            col(Entity.slug).label("entity_slug"),
            col(Entity.registration_id).label("entity_registration_id"),
            col(Entity.kind).label("_entity_kind"),
            col(Entity.jurisdiction_code).label("_jurisdiction"),
            col(Entity.term_end).label("_term_end"),
            col(Agency.slug).label("agency"),
            col(Agency.name).label("_agency_name"),
        )
        .join(Entity, col(Entity.id) == Record.entity_id)
        .join(Agency, col(Agency.id) == Record.agency_id)
        .outerjoin(origin, col(origin.id) == Record.case_record_id)
        .where(col(Record.status).in_(PUBLIC_STATUSES), col(Entity.merged_into_id).is_(None))
    )
    if agency_id is not None:
        stmt = stmt.where(Record.agency_id == agency_id)
    if violations_only:
        stmt = stmt.where(Record.nature == "violation")
    return stmt


def record_rows(
    session: Session,
    agency_id: int | None = None,
    today: date | None = None,
    batch: int = BATCH,
    violations_only: bool = False,
) -> Iterator[Row]:
    """Every public record as a row keyed by export column (plus internal extras)."""
    day = today or utcnow().date()
    stmt = _record_select(agency_id, violations_only)
    for rows in _batches(session, stmt, Record.id, batch):
        for r in rows:
            if not in_view(str(r._entity_kind), r._jurisdiction, r._term_end, day):
                continue
            row = r._asdict()
            for key in ("nature", "severity", "status"):
                row[key] = str(row[key])
            row["in_force_now"] = measure_in_force(r, day)
            yield row


def cell(value: Any) -> str:
    """One value as CSV text: ISO dates, decimal strings, `|`-joined lists, '' for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value
        return utc.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "|".join(str(v) for v in value)
    return str(value)


def json_value(value: Any) -> Any:
    """One value as JSON: ISO dates, money as a decimal string, lists and numbers kept."""
    if isinstance(value, date | Decimal):
        return cell(value)
    return value


def _chunked(rows: Iterable[Row], write: Callable[[Row], str], size: int = 500) -> Iterator[bytes]:
    """UTF-8 bytes of the written rows, a few hundred rows per chunk."""
    buffer: list[str] = []
    for row in rows:
        buffer.append(write(row))
        if len(buffer) >= size:
            yield "".join(buffer).encode()
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode()


def csv_chunks(rows: Iterable[Row], columns: tuple[str, ...]) -> Iterator[bytes]:
    """CSV with a header line; every cell neutralised against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def write(values: Iterable[str]) -> str:
        """One CSV line."""
        out.seek(0)
        out.truncate()
        writer.writerow(values)
        return out.getvalue()

    yield write(columns).encode()
    yield from _chunked(rows, lambda row: write(neutralise(cell(row[c])) for c in columns))


def jsonl_chunks(rows: Iterable[Row], columns: tuple[str, ...]) -> Iterator[bytes]:
    """JSON Lines: one object per row with the export's columns as keys."""

    def write(row: Row) -> str:
        """One JSON line."""
        body = {c: json_value(row[c]) for c in columns}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"

    return _chunked(rows, write)


# The columns of each CSV: (name, frictionless type, description, constraints).
ENTITY_FIELDS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("name", "string", "The entity's name.", {"required": True}),
    (
        "kind",
        "string",
        "business, social_organisation, government_body or official.",
        {
            "required": True,
            "enum": [kind.value for kind in EntityKind],
        },
    ),
    ("jurisdiction", "string", "ISO 3166 code: GB, GB-WLS, US-NY.", {"required": True}),
    ("slug", "string", "The entity's identifier in URLs.", {"required": True, "unique": True}),
    ("sector", "string", "Sector of activity.", {}),
    ("registration_id", "string", "Company or charity number where known.", {}),
    ("aliases", "string", "Other and former names, separated by |.", {}),
    ("parent_slug", "string", "Slug of the parent entity of a group.", {}),
    ("address", "string", "Registered address of an organisation (never of a person).", {}),
    ("website", "string", "Official website.", {}),
    ("role_title", "string", "An official's role.", {}),
    ("body_slug", "string", "Slug of the body an official serves.", {}),
    ("term_start", "date", "Start of an official's term.", {}),
    ("term_end", "date", "End of an official's term.", {}),
    ("score", "number", "Current score (derived; not imported).", {}),
    ("band", "string", "Current band A-E (derived; not imported).", {}),
    ("trusted", "boolean", "Trusted mark (derived; not imported).", {}),
    ("watchlist", "boolean", "On the watchlist (derived; not imported).", {}),
    (
        "under_sanction",
        "boolean",
        "A debarment, suspension or listing is in force (derived; not imported).",
        {},
    ),
    ("score_rulebook", "string", "Rulebook id and version of the score (derived).", {}),
)
RECORD_FIELDS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("entity_slug", "string", "Slug of the entity the finding is about.", {"required": True}),
    ("entity_registration_id", "string", "That entity's registration id, if any.", {}),
    ("category", "string", "One of the publishing agency's categories.", {"required": True}),
    (
        "severity",
        "string",
        "minor, moderate, serious or severe.",
        {"required": True, "enum": list(SEVERITIES)},
    ),
    ("title", "string", "What was found, in one line.", {"required": True}),
    ("decided_on", "date", "Date of the agency's decision.", {"required": True}),
    ("nature", "string", "violation or commendation.", {"enum": list(NATURES)}),
    ("source_id", "string", "The agency's own identifier of the finding.", {}),
    ("summary", "string", "Summary of the finding.", {}),
    ("statute", "string", "The law or rule concerned.", {}),
    ("occurred_on", "date", "When the conduct occurred.", {}),
    ("penalty_amount", "number", "Penalty as a decimal, in penalty_currency.", {"minimum": 0}),
    ("penalty_currency", "string", "ISO 4217 currency of the penalty.", {}),
    ("source_url", "string", "The agency's own publication.", {}),
    (
        "measure",
        "string",
        "What the record imposes: " + ", ".join(MEASURES) + ".",
        {"enum": list(MEASURES)},
    ),
    ("in_force_from", "date", "First day the measure is in force.", {}),
    ("in_force_until", "date", "Last day it is in force; empty: until lifted.", {}),
    ("case_agency", "string", "Agency that decided the case this record enforces.", {}),
    ("case_id", "string", "That agency's identifier of the case.", {}),
    ("case_record", "string", "Ref of the originating record, when it is in the register.", {}),
    ("ref", "string", "The register's public reference (derived).", {"unique": True}),
    ("agency", "string", "Slug of the publishing agency (derived).", {}),
    (
        "status",
        "string",
        "published or under_appeal (derived).",
        {"enum": [status.value for status in PUBLIC_STATUSES]},
    ),
    ("published_at", "datetime", "When the register published it, UTC (derived).", {}),
    ("remediated_on", "date", "Remediation verified by the agency from (derived).", {}),
    ("revision", "integer", "Revision number; above 1 after a correction (derived).", {}),
    ("lifted_on", "date", "The day the measure was lifted early (derived).", {}),
    ("lifted_reason", "string", "The agency's public reason for lifting it (derived).", {}),
    (
        "in_force_now",
        "boolean",
        "Whether the measure is in force on the export's day; empty without a period.",
        {},
    ),
)


def _schema(fields: tuple[tuple[str, str, str, dict[str, Any]], ...]) -> dict[str, Any]:
    """A Table Schema for one CSV."""
    return {
        "fields": [
            {"name": name, "type": kind, "description": text, **({"constraints": c} if c else {})}
            for name, kind, text, c in fields
        ],
        "missingValues": [""],
    }


def datapackage() -> dict[str, Any]:
    """The frictionless Data Package describing the two CSV exports."""
    entities = _schema(ENTITY_FIELDS) | {"primaryKey": ["slug"]}
    records = _schema(RECORD_FIELDS) | {
        "primaryKey": ["ref"],
        "foreignKeys": [
            {"fields": ["entity_slug"], "reference": {"resource": "entities", "fields": ["slug"]}}
        ],
    }
    csv_resource = {"format": "csv", "mediatype": "text/csv", "encoding": "utf-8"}
    return {
        "name": "accountability-portal",
        "title": "Accountability Portal: entities and their public findings",
        "licenses": [
            {
                "name": "CC-BY-4.0",
                "title": "Creative Commons Attribution 4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/",
            }
        ],
        "resources": [
            {"name": "entities", "path": "entities.csv", **csv_resource, "schema": entities},
            {"name": "records", "path": "records.csv", **csv_resource, "schema": records},
        ],
    }
