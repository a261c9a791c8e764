"""The register in the FollowTheMoney model, for the tools of that ecosystem.

Entities become Company, Organization, PublicBody or Person (officials still in
public view only); each published or appealed violation becomes a Sanction
naming its agency as `authority` and linked to its entity by `entity`.
Commendations are not sanctions and stay out of this export (they are in the
CSV and JSON Lines exports).

Values are written in the form followthemoney itself cleans them to (lower-case
country codes, ISO dates, single-spaced names), so that parsing the export with
`model.get_proxy(data, cleaned=False)` changes and drops nothing; a test holds
the export to that. This module does not import followthemoney: it is needed
only to check the export, not to write it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from portal.services.exports import Row, entity_rows, record_rows

SCHEMAS = {
    "business": "Company",
    "social_organisation": "Organization",
    "government_body": "PublicBody",
    "official": "Person",
}
PUBLISHER = "Accountability Portal"
# Subdivisions followthemoney keeps as territories; any other keeps its country part.
FTM_TERRITORIES = {"GB-NIR", "GB-SCT", "GB-WLS"}
_SPACES = re.compile(r"\s+")


def entity_id(slug: str) -> str:
    """The stable FtM id of an entity."""
    return f"ap-entity-{slug}"


def sanction_id(ref: str) -> str:
    """The stable FtM id of a record's sanction."""
    return f"ap-record-{ref}"


def country(code: str) -> str:
    """A jurisdiction as an FtM country code: `GB-WLS` -> `gb-wls`, `US-NY` -> `us`."""
    code = code.upper()
    return (code if code in FTM_TERRITORIES else code.split("-")[0]).lower()


def one_line(value: str) -> str:
    """Whitespace runs as one space, as FtM cleans names and addresses."""
    return _SPACES.sub(" ", value).strip()


def ftm_date(value: date | datetime) -> str:
    """An ISO date (FtM keeps dates; a timestamp becomes its UTC day)."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date() if value.tzinfo else value.date()
    return value.isoformat()


def _props(pairs: Iterable[tuple[str, Any]]) -> dict[str, list[str]]:
    """FtM properties from (name, value or list) pairs, empty values left out."""
    props: dict[str, list[str]] = {}
    for name, value in pairs:
        values = value if isinstance(value, list) else [value]
        kept = [v.strip() for v in values if v is not None and str(v).strip()]
        if kept:
            props.setdefault(name, []).extend(dict.fromkeys(kept))
    return props


def _office(row: Row) -> str | None:
    """An official's office and term in words."""
    if row["kind"] != "official":
        return None
    office = row["role_title"] or "Official"
    if row["_body_name"]:
        office += f", {one_line(row['_body_name'])}"
    start, end = row["term_start"], row["term_end"]
    if start or end:
        office += f" (term {start or '?'} to {end or 'present'})"
    return office


def entity_to_ftm(row: Row, base_url: str) -> dict[str, Any]:
    """One entity row as an FtM entity of the schema its kind maps to."""
    schema = SCHEMAS[row["kind"]]
    nation = country(row["jurisdiction"])
    names = {one_line(row["name"])}
    pairs: list[tuple[str, Any]] = [
        ("name", one_line(row["name"])),
        ("alias", [one_line(a) for a in row["aliases"] if one_line(a) not in names]),
        ("previousName", [one_line(a) for a in row["_former"]]),
        ("country", nation),
        ("registrationNumber", row["registration_id"]),
        ("sector", row["sector"]),
        ("address", one_line(row["address"] or "")),
        ("website", row["website"]),
        ("sourceUrl", f"{base_url}entities/{row['slug']}"),
        ("publisher", PUBLISHER),
        ("publisherUrl", base_url),
    ]
    if schema == "Person":
        pairs.append(("position", _office(row)))
    else:
        pairs.append(("jurisdiction", nation))
    if row["parent_slug"]:
        pairs.append(("parent", entity_id(row["parent_slug"])))
    if row["score"] is not None:
        note = f"Accountability Portal score {row['score']:g}, band {row['band']}"
        pairs.append(("notes", f"{note} (rulebook {row['score_rulebook']})"))
    return {"id": entity_id(row["slug"]), "schema": schema, "properties": _props(pairs)}


def _penalty(row: Row) -> str | None:
    """A penalty in words, money as a decimal string with its currency."""
    if row["penalty_amount"] is None:
        return None
    return f"Penalty of {row['penalty_amount']} {row['penalty_currency']}"


def _end(row: Row) -> str | None:
    """The last day a measure is (or was) in force: its lifting or its planned end."""
    end = row["lifted_on"] or row["in_force_until"]
    return ftm_date(end) if end else None


def _status(row: Row) -> str:
    """In force, ended or lifted for a measure (with the lifting's reason); else the status."""
    if row["lifted_on"]:
        return f"lifted: {one_line(row['lifted_reason'] or '')}".rstrip(": ")
    if row["in_force_now"] is True:
        return "in force" + ("" if row["in_force_until"] else " until lifted")
    if row["in_force_now"] is False and row["in_force_until"]:
        return "ended"
    return str(row["status"])


def record_to_ftm(row: Row, base_url: str) -> dict[str, Any]:
    """One public violation as an FtM Sanction against its entity."""
    kind = f"{row['severity']} {row['category'].replace('_', ' ')} {row['nature']}"
    if row["measure"]:
        kind += f": {row['measure'].replace('_', ' ')}"
    pairs: list[tuple[str, Any]] = [
        ("entity", entity_id(row["entity_slug"])),
        ("authority", row["_agency_name"]),
        ("authorityId", row["source_id"]),
        ("recordId", row["ref"]),
        ("country", country(row["_jurisdiction"])),
        ("reason", row["title"]),
        ("summary", row["summary"]),
        ("description", kind.capitalize()),
        ("program", row["statute"]),
        ("provisions", _penalty(row)),
        ("status", _status(row)),
        ("startDate", ftm_date(row["in_force_from"] or row["decided_on"])),
        ("endDate", _end(row)),
        ("listingDate", ftm_date(row["published_at"]) if row["published_at"] else None),
        ("sourceUrl", [f"{base_url}records/{row['ref']}", row["source_url"]]),
        ("publisher", PUBLISHER),
        ("publisherUrl", base_url),
    ]
    return {"id": sanction_id(row["ref"]), "schema": "Sanction", "properties": _props(pairs)}


def ftm_entities(session: Session, base_url: str) -> Iterator[dict[str, Any]]:
    """Every public entity, then every public violation as a Sanction."""
    for row in entity_rows(session):
        yield entity_to_ftm(row, base_url)
    for row in record_rows(session, violations_only=True):
        yield record_to_ftm(row, base_url)


def ftm_chunks(session: Session, base_url: str, size: int = 500) -> Iterator[bytes]:
    """The FtM export as line-delimited JSON (one entity per line), in UTF-8 chunks."""
    buffer: list[str] = []
    for entity in ftm_entities(session, base_url):
        buffer.append(json.dumps(entity, ensure_ascii=False, separators=(",", ":")) + "\n")
        if len(buffer) >= size:
            yield "".join(buffer).encode()
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode()
