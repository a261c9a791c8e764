"""The JSON API, version 1: the same reads as the pages, for machines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

import scoring
from portal.auth import limiter
from portal.errors import PortalError, ValidationFailed
from portal.http import add_cors
from portal.models import Agency, Jurisdiction, utcnow
from portal.openapi import openapi_spec
from portal.serialise import entity_json, iso, page_json, record_json, score_json
from portal.services.directory import agency_page, jurisdiction_page
from portal.services.exports import agency_list, jurisdiction_list
from portal.services.history import score_as_of
from portal.services.public import current_score, entity_view, public_records
from portal.services.record_page import HistoryEntry, RecordPage, record_page
from portal.services.search.searching import (
    build_query,
    count_matches,
    search_register,
    suggest_names,
)
from portal.wiring import get_db, get_index

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 100
READ_LIMIT = "300 per minute"


def read_limit() -> str:
    """The per-address limit on API reads (PORTAL_API_READ_LIMIT, e.g. "300 per minute")."""
    return str(current_app.config.get("API_READ_LIMIT") or READ_LIMIT)


limiter.shared_limit(read_limit, scope="api-read")(bp)


@bp.after_request
def conditional(response: Response) -> Response:
    """CORS on every answer; an ETag on each read, and 304 when If-None-Match matches it."""
    add_cors(response)
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response.headers.setdefault("Cache-Control", "no-cache")
        response.add_etag()
        response.make_conditional(request)
    return response


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
    query = replace(build_query(args, per_page_default=20), with_highlights=False)
    results, _current = search_register(get_index(), query)
    items = [
        {
            "slug": hit.key,
            **{
                k: hit.fields.get(k)
                for k in ("name", "kind", "jurisdiction", "sector", "score", "band", "sanction")
            },
        }
        for hit in results.hits
    ]
    body = page_json(items, results.total, query.page, query.per_page)
    body["facets"] = {name: dict(values) for name, values in results.facets.items()}
    body["suggestion"] = results.suggestion
    # How many findings the same words match, so a client knows to look there too.
    body["counts"] = {
        "entity": results.total,
        "record": count_matches(get_index(), query, "record") if query.text.strip() else None,
    }
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
        items = [
            {**record_json(record, slug, agency), "links": record_links(record.ref, slug, agency)}
            for record, agency in rows
        ]
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


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """This API described in OpenAPI 3.1."""
    return jsonify(openapi_spec())


def record_links(ref: str, entity: str | None = None, agency: str | None = None) -> dict:
    """Links from a record to its page and, while it is public, to its entity and agency."""
    links = {"self": f"/api/v1/records/{ref}", "html": f"/records/{ref}"}
    if entity and agency:
        links |= {"entity": f"/api/v1/entities/{entity}", "agency": f"/api/v1/agencies/{agency}"}
    return links


def history_json(entry: HistoryEntry, ended: bool) -> dict[str, Any]:
    """One public step of a record; an ended record's corrections keep their content back."""
    return {
        "seq": entry.seq,
        "at": iso(entry.at),
        "action": entry.action,
        "label": entry.label,
        "reason": entry.reason,
        "outcome": entry.outcome,
        "changes": {} if ended else entry.changes,
    }


def record_detail_json(page: RecordPage) -> dict[str, Any]:
    """A record with its history, replies and appeal; an ended one without the allegation."""
    history = [history_json(entry, page.ended) for entry in page.history]
    ref = page.record.ref
    if page.ended:
        return {"ref": ref, "status": str(page.record.status), "history": history,
                "links": record_links(ref)}  # fmt: skip
    appeal = page.appeal
    return {
        **record_json(page.record, page.entity.slug, page.agency.slug),
        "history": history,
        "responses": [
            {"body": r.body, "published_at": iso(r.published_at)} for r in page.responses
        ],
        "appeal": None
        if appeal is None
        else {
            "status": str(appeal.status),
            "filed_at": iso(appeal.filed_at),
            "decided_at": iso(appeal.decided_at),
            "decision_reason": appeal.decision_reason,
        },
        "links": record_links(ref, page.entity.slug, page.agency.slug),
    }


@bp.get("/records/<ref>")
def record(ref: str) -> ResponseReturnValue:
    """One public record with its history; withdrawn or overturned: ref, status, history."""
    with get_db().session() as session:
        page = record_page(session, ref)
        body = record_detail_json(page)
    return jsonify(body)


def agency_json(agency: Agency) -> dict[str, Any]:
    """An agency's public fields and links."""
    return {
        "slug": agency.slug,
        "name": agency.name,
        "jurisdiction": agency.jurisdiction_code,
        "categories": list(agency.categories),
        "requires_second_approval": agency.requires_second_approval,
        "website": agency.website,
        "description": agency.description,
        "links": {
            "self": f"/api/v1/agencies/{agency.slug}",
            "html": f"/agencies/{agency.slug}",
            "feed": f"/agencies/{agency.slug}/feed.atom",
            "jurisdiction": f"/api/v1/jurisdictions/{agency.jurisdiction_code}"
            if agency.jurisdiction_code
            else None,
        },
    }


@bp.get("/agencies")
def agencies() -> ResponseReturnValue:
    """Every agency that publishes findings, by name."""
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 50, 1, MAX_PER_PAGE)
    with get_db().session() as session:
        rows, total = agency_list(session, page, per_page)
    return jsonify(page_json([agency_json(a) for a in rows], total, page, per_page))


@bp.get("/agencies/<slug>")
def agency(slug: str) -> ResponseReturnValue:
    """One agency: what it publishes, its recent findings and its appeal statistics."""
    with get_db().session() as session:
        page = agency_page(session, slug)
    stats = page.appeals
    return jsonify(
        {
            **agency_json(page.agency),
            "published_by_category": dict(page.by_category),
            "recent": [finding.ref for finding in page.recent],
            "appeals": {
                "filed": stats.filed,
                "by_outcome": stats.by_outcome,
                "median_days": stats.median_days,
                "overdue": stats.overdue,
            },
        }
    )


def jurisdiction_json(jurisdiction: Jurisdiction) -> dict[str, Any]:
    """A jurisdiction's code, name, parent and links."""
    code = jurisdiction.code
    links = {"self": f"/api/v1/jurisdictions/{code}", "html": f"/jurisdictions/{code}"}
    if jurisdiction.parent_code:
        links["parent"] = f"/api/v1/jurisdictions/{jurisdiction.parent_code}"
    return {
        "code": code,
        "name": jurisdiction.name,
        "parent": jurisdiction.parent_code,
        "links": links,
    }


@bp.get("/jurisdictions")
def jurisdictions() -> ResponseReturnValue:
    """Every jurisdiction, by code."""
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 100, 1, MAX_PER_PAGE)
    with get_db().session() as session:
        rows = jurisdiction_list(session)
    items = [jurisdiction_json(j) for j in rows[(page - 1) * per_page : page * per_page]]
    return jsonify(page_json(items, len(rows), page, per_page))


@bp.get("/jurisdictions/<code>")
def jurisdiction(code: str) -> ResponseReturnValue:
    """One jurisdiction: its parts, rulebook in force, agencies, bands and recent findings."""
    with get_db().session() as session:
        page = jurisdiction_page(session, code)
    rulebook = page.rulebook
    return jsonify(
        {
            **jurisdiction_json(page.jurisdiction),
            "children": [child.code for child in page.children],
            "rulebook": {"id": rulebook.id, "version": rulebook.version},
            "agencies": [a.slug for a in page.agencies],
            "entities_by_band": dict(page.by_band),
            "recent": [finding.ref for finding in page.recent],
        }
    )
