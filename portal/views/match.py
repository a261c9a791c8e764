"""Screening through the API: POST /api/v1/match with a batch of names."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from portal.auth import limiter
from portal.errors import PortalError
from portal.http import add_cors
from portal.models import utcnow
from portal.services.screening import ScreenResult, parse_queries, screen
from portal.services.search.documents import head_seq
from portal.wiring import get_db, get_index

bp = Blueprint("match", __name__, url_prefix="/api/v1")
MATCH_LIMIT = "30 per minute"


def match_limit() -> str:
    """Batches per address (PORTAL_API_MATCH_LIMIT): each screens up to 500 names."""
    return str(current_app.config.get("API_MATCH_LIMIT") or MATCH_LIMIT)


@bp.post("/match")
@limiter.limit(match_limit)
def match() -> ResponseReturnValue:
    """Screen up to 500 names: candidates with a score, the features, band and measures."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise PortalError('The body must be a JSON object: {"queries": [{"name": ...}]}.')
    queries = parse_queries(body.get("queries"))
    today = utcnow().date()
    with get_db().session() as session:
        results = screen(session, get_index(), queries, today)
        seq = head_seq(session)
    response = jsonify(
        {
            "data_as_of": {"seq": seq, "date": today.isoformat()},
            "results": [result_json(r) for r in results],
        }
    )
    return add_cors(response)


def result_json(result: ScreenResult) -> dict[str, Any]:
    """One query's answer as JSON."""
    return {
        "query": {k: v for k, v in vars(result.query).items() if v is not None},
        "verdict": result.verdict,
        "candidates": [
            {
                "slug": c.slug,
                "name": c.name,
                "kind": c.kind,
                "jurisdiction": c.jurisdiction,
                "score": c.score,
                "verdict": c.verdict,
                "features": list(c.features),
                "matched_name": c.matched_name,
                "band": c.band,
                "entity_score": c.entity_score,
                "under_sanction": bool(c.measures),
                "measures_in_force": list(c.measures),
            }
            for c in result.candidates
        ],
    }
