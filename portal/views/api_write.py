"""The regulators' write API under /api/v1, authenticated by bearer tokens."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from portal.auth import limiter
from portal.errors import PortalError
from portal.openapi import ACTIONS
from portal.serialise import record_json
from portal.services.forms.api import (
    actor_for_token,
    create_record_from_json,
    record_action_from_json,
)
from portal.wiring import get_db

bp = Blueprint("api_write", __name__, url_prefix="/api/v1")
WRITE_LIMIT = "120 per minute"


class Unauthorised(PortalError):
    """No valid bearer token."""

    status = 401
    code = "unauthorised"


@bp.before_request
def authenticate() -> None:
    """Every write needs a live regulator token: `Authorization: Bearer ap_...`."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    actor = actor_for_token(get_db(), raw.strip()) if scheme.lower() == "bearer" and raw else None
    if actor is None:
        raise Unauthorised("A valid API token is required (Authorization: Bearer <token>).")
    g.token_actor = actor


def json_body() -> dict[str, object]:
    """The request's JSON object, a 413 when it is over the size limit, else a 400 saying why."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    # A chunked body has no Content-Length: Werkzeug stops reading at the limit without
    # raising, so a body that fills it is taken as one that went past it.
    if request.content_length is None and limit and len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise PortalError("The body must be a JSON object (Content-Type: application/json).")
    return body


def write_limit() -> str:
    """The per-address limit on each API write route (PORTAL_API_WRITE_LIMIT)."""
    return str(current_app.config.get("API_WRITE_LIMIT") or WRITE_LIMIT)


@bp.post("/records")
@limiter.limit(write_limit)
def create() -> ResponseReturnValue:
    """Create a draft finding of the token's agency; `"publish": true` publishes it too."""
    record, entity, agency = create_record_from_json(get_db(), g.token_actor, json_body())
    response = jsonify(record_json(record, entity, agency))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/records/{record.ref}"
    return response


@bp.post("/records/<ref>/<action>")
@limiter.limit(write_limit)
def act(ref: str, action: str) -> ResponseReturnValue:
    """publish, withdraw ({"reason"}), remediate ({"remediated_on"}), submit, approve,
    lift ({"lifted_on", "reason"}), confirm_lift."""
    if action not in ACTIONS:
        raise PortalError(f"Unknown action {action!r}; one of {', '.join(ACTIONS)}.")
    body = json_body() if request.content_length else {}
    record, entity, agency = record_action_from_json(get_db(), g.token_actor, ref, action, body)
    return jsonify(record_json(record, entity, agency))
