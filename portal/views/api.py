"""The JSON API, version 1: the same reads as the pages, for machines."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

import scoring
from portal.app import get_db
from portal.errors import PortalError, ValidationFailed
from portal.models import utcnow
from portal.search_index import get_index
from portal.services.history import score_as_of
from portal.services.public import current_score, entity_view, public_records
from portal.services.searching import build_query, search_register, suggest_names
from portal.views.serialise import entity_json, page_json, record_json, score_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 100


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A bounded integer query parameter; 400 when it is not one."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise PortalError(f"{name} must be a whole number.", {name: raw[:50]}) from None
    if not low <= value <= high:
        raise PortalError(f"{name} must be between {low} and {high}.", {name: value})
    return value


def date_arg(name: str) -> date | None:
    """An optional YYYY-MM-DD query parameter, not in the future."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise PortalError(f"{name} must be a date as YYYY-MM-DD.", {name: raw[:50]}) from None
    if value > utcnow().date():
        raise ValidationFailed(f"{name} is in the future.", {name: raw})
    return value


@bp.get("/entities")
def entities() -> ResponseReturnValue:
    """Search or list entities: q, kind, jurisdiction, sector, band, sort, page, per_page."""
    args = request.args.to_dict(flat=False)
    args["type"] = ["entity"]
    query = build_query(args, per_page_default=20)
    results, _current = search_register(get_index(), query)
    items = [
        {
            "slug": hit.key,
            **{
                k: hit.fields.get(k)
                for k in ("name", "kind", "jurisdiction", "sector", "score", "band")
            },
        }
        for hit in results.hits
    ]
    body = page_json(items, results.total, query.page, query.per_page)
    body["facets"] = {name: dict(values) for name, values in results.facets.items()}
    body["suggestion"] = results.suggestion
    return jsonify(body)


@bp.get("/suggest")
def suggest() -> ResponseReturnValue:
    """Typeahead for entity names."""
    items = suggest_names(get_index(), request.args.get("q", ""), limit=10)
    return jsonify({"items": [vars(item) for item in items]})


@bp.get("/entities/<slug>")
def entity(slug: str) -> ResponseReturnValue:
    """One entity with its explained score."""
    with get_db().session() as session:
        view = entity_view(session, slug)
        result, upcoming = current_score(session, view.entity)
    return jsonify(entity_json(view, score_json(result, upcoming)))


@bp.get("/entities/<slug>/score")
def score(slug: str) -> ResponseReturnValue:
    """The score today, or as it stood on ?as_of=YYYY-MM-DD (rebuilt from the change log)."""
    as_of = date_arg("as_of")
    with get_db().session() as session:
        view = entity_view(session, slug)
        if as_of is None:
            result, upcoming = current_score(session, view.entity)
            return jsonify(score_json(result, upcoming))
        return jsonify(score_json(score_as_of(session, view.entity, as_of)))


@bp.get("/entities/<slug>/records")
def entity_records(slug: str) -> ResponseReturnValue:
    """An entity's public records, newest decision first."""
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 50, 1, MAX_PER_PAGE)
    with get_db().session() as session:
        view = entity_view(session, slug)
        rows, total = public_records(session, view.entity, page, per_page)
        items = [record_json(record, slug, agency) for record, agency in rows]
    return jsonify(page_json(items, total, page, per_page))


@bp.get("/methodology")
def methodology() -> ResponseReturnValue:
    """Every rulebook, those in force today first: enough to recompute any score."""
    return jsonify(methodology_json(utcnow().date()))


def methodology_json(today: date) -> dict[str, Any]:
    """The published methodology as data."""
    rulebooks = scoring.default_rulebooks()
    return {
        "as_of": today.isoformat(),
        "formula": (
            "score = clamp(baseline - sum(deductions) + min(sum(credits), credit_cap), floor, "
            "ceiling); deduction = severity_points[severity] x category_weight[category] x "
            "repeat x remediation x age"
        ),
        "selection": (
            "A jurisdiction uses its own rulebook in force on the date; without one, its "
            "parent's (GB-WLS -> GB), then the default. The version in force is the latest "
            "whose effective_from is on or before the date."
        ),
        "in_force": [rulebook.to_dict() for rulebook in rulebooks.in_force(today)],
        "all": [rulebook.to_dict() for rulebook in rulebooks.all()],
    }
