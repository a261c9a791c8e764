"""JSON shapes of the API, with the field names DESIGN.md §5 keeps stable."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import scoring
from portal.models import Record, utcnow
from portal.services.measures import measure_in_force
from portal.services.public import EntityView


def iso(value: date | datetime | None) -> str | None:
    """ISO 8601, or None."""
    return value.isoformat() if value else None


def score_json(result: scoring.Score, upcoming: tuple[scoring.ScoreChange, ...] = ()) -> dict:
    """A score with its contributions and what changes next."""
    body = result.to_dict()
    body["next_changes"] = [change.to_dict() for change in upcoming]
    return body


def entity_json(view: EntityView, score: dict[str, Any] | None = None) -> dict[str, Any]:
    """An entity, with officials' office and the links to its relatives."""
    entity = view.entity
    body: dict[str, Any] = {
        "slug": entity.slug,
        "name": entity.name,
        "aliases": view.aliases,
        "kind": str(entity.kind),
        "jurisdiction": entity.jurisdiction_code,
        "sector": entity.sector,
        "registration_id": entity.registration_id,
        "parent": view.parent_slug,
        "score": score,
        "links": {
            "self": f"/api/v1/entities/{entity.slug}",
            "records": f"/api/v1/entities/{entity.slug}/records",
            "score": f"/api/v1/entities/{entity.slug}/score",
            "html": f"/entities/{entity.slug}",
        },
    }
    if entity.kind == "official":
        body["office"] = {
            "role_title": entity.role_title,
            "body": view.body_slug,
            "term_start": iso(entity.term_start),
            "term_end": iso(entity.term_end),
        }
    return body


def record_json(record: Record, entity_slug: str, agency_slug: str) -> dict[str, Any]:
    """A record's public fields."""
    penalty = None
    if record.penalty_amount is not None:
        penalty = {"amount": str(record.penalty_amount), "currency": record.penalty_currency}
    return {
        "ref": record.ref,
        "entity": entity_slug,
        "agency": agency_slug,
        "nature": str(record.nature),
        "category": record.category,
        "severity": str(record.severity),
        "title": record.title,
        "summary": record.summary,
        "statute": record.statute,
        "occurred_on": iso(record.occurred_on),
        "decided_on": iso(record.decided_on),
        "published_at": iso(record.published_at),
        "remediated_on": iso(record.remediated_on),
        "penalty": penalty,
        "source_url": record.source_url,
        "status": str(record.status),
        "revision": record.revision,
        **measure_json(record),
    }


def measure_json(record: Record) -> dict[str, Any]:
    """A record's measure in force, its lifting and the case it enforces (all null if none)."""
    case = None
    if record.case_key:
        origin = record.case_key[4:] if record.case_record_id else None
        case = {"agency": record.case_agency, "id": record.case_id, "record": origin}
    return {
        "measure": record.measure,
        "in_force_from": iso(record.in_force_from),
        "in_force_until": iso(record.in_force_until),
        "lifted_on": iso(record.lifted_on),
        "lifted_reason": record.lifted_reason,
        "in_force_now": measure_in_force(record, utcnow().date()),
        "case": case,
    }


def page_json(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    """The list envelope of every paged endpoint."""
    return {"items": items, "total": total, "page": page, "per_page": per_page}
