"""Open data: bulk exports, Atom feeds, the open-data page and the API reference page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    stream_with_context,
)
from flask.typing import ResponseReturnValue

from portal.auth import limiter
from portal.http import Chunks, add_cors
from portal.openapi import openapi_spec
from portal.services.audit import chain_head
from portal.services.exports import (
    ENTITY_FIELDS,
    RECORD_FIELDS,
    agency_id_for,
    columns_for,
    csv_chunks,
    datapackage,
    entity_rows,
    export_etag,
    jsonl_chunks,
    record_rows,
)
from portal.services.feeds import feed_entries, feed_scope, render_atom
from portal.services.ftm import ftm_chunks
from portal.wiring import get_db

bp = Blueprint("opendata", __name__)
EXPORT_LIMIT = "60 per minute"
# Starred on the page: what an import refuses to do without (records also need the entity).
IMPORT_REQUIRED = {"name", "kind", "jurisdiction", "category", "severity", "title", "decided_on"}
CSV = "text/csv; charset=utf-8"
JSONL = "application/x-ndjson; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"


def export_limit() -> str:
    """The per-address limit on exports and feeds (PORTAL_EXPORT_LIMIT)."""
    return str(current_app.config.get("EXPORT_LIMIT") or EXPORT_LIMIT)


bulk_limit = limiter.shared_limit(export_limit, scope="exports")


@bp.after_request
def cors(response: Response) -> Response:
    """Exports and feeds are readable from any origin, like the API."""
    if request.path.startswith("/exports/") or request.path.endswith(".atom"):
        add_cors(response)
    return response


def not_modified(etag: str) -> Response:
    """A 304 for a client that already holds this version."""
    response = Response(status=304)
    response.set_etag(etag)
    return response


def stream(filename: str, content_type: str, chunks: Chunks, *variant: str) -> ResponseReturnValue:
    """Stream an export from one read transaction, tagged with the change-log head."""
    session = get_db().session()
    try:
        etag = export_etag(session, filename, *filter(None, variant))
        if request.if_none_match.contains(etag):
            session.close()
            return not_modified(etag)
    except BaseException:
        session.close()
        raise

    def body() -> Iterator[bytes]:
        """The chunks; the read transaction ends with the last one."""
        try:
            yield from chunks(session)
        finally:
            session.close()

    response = Response(stream_with_context(body()), content_type=content_type)
    response.call_on_close(session.close)  # also when the body is never read (HEAD)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, no-cache"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _variant() -> str:
    """`?columns=import` (exactly the import columns) or the full set."""
    return request.args.get("columns", "full")


@bp.get("/exports/entities.csv", defaults={"fmt": "csv"})
@bp.get("/exports/entities.jsonl", defaults={"fmt": "jsonl"})
@bulk_limit
def entities(fmt: str) -> ResponseReturnValue:
    """Every public entity as CSV or JSON Lines (`?columns=import` to import again)."""
    columns = columns_for("entities", _variant())
    write, mimetype = (csv_chunks, CSV) if fmt == "csv" else (jsonl_chunks, JSONL)
    chunks: Chunks = lambda session: write(entity_rows(session), columns)  # noqa: E731
    return stream(f"entities.{fmt}", mimetype, chunks, _variant())


@bp.get("/exports/records.csv", defaults={"fmt": "csv"})
@bp.get("/exports/records.jsonl", defaults={"fmt": "jsonl"})
@bulk_limit
def records(fmt: str) -> ResponseReturnValue:
    """Every public record as CSV or JSON Lines; `?agency=SLUG` for one agency's."""
    columns = columns_for("records", _variant())
    slug = request.args.get("agency") or ""
    with get_db().session() as session:
        agency_id = agency_id_for(session, slug)
    write, mimetype = (csv_chunks, CSV) if fmt == "csv" else (jsonl_chunks, JSONL)
    chunks: Chunks = lambda session: write(record_rows(session, agency_id), columns)  # noqa: E731
    return stream(f"records.{fmt}", mimetype, chunks, _variant(), slug)


@bp.get("/exports/entities.ftm.json")
@bulk_limit
def ftm() -> ResponseReturnValue:
    """Entities and violations in the FollowTheMoney model, one entity per line."""
    base = request.url_root
    chunks: Chunks = lambda session: ftm_chunks(session, base)  # noqa: E731
    return stream("entities.ftm.json", JSONL, chunks)


@bp.get("/exports/datapackage.json")
def package() -> ResponseReturnValue:
    """The frictionless Data Package describing the CSV exports."""
    return jsonify(datapackage())


def feed(kind: str, slug: str = "") -> ResponseReturnValue:
    """An Atom feed, with a 304 while the change log has not moved."""
    with get_db().session() as session:
        scope = feed_scope(session, kind, slug)
        head = chain_head(session)
        etag = f"feed-{scope.key}-{head[0]}"
        if request.if_none_match.contains(etag):
            return not_modified(etag)
        entries = feed_entries(session, scope)
    body = render_atom(scope, entries, head, request.url_root)
    response = Response(body, content_type=ATOM)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, no-cache"
    return response


@bp.get("/feed.atom")
@bulk_limit
def register_feed() -> ResponseReturnValue:
    """The newest public steps of findings across the register."""
    return feed("register")


@bp.get("/entities/<slug>/feed.atom")
@bulk_limit
def entity_feed(slug: str) -> ResponseReturnValue:
    """The newest public steps of one entity's findings."""
    return feed("entity", slug)


@bp.get("/agencies/<slug>/feed.atom")
@bulk_limit
def agency_feed(slug: str) -> ResponseReturnValue:
    """The newest public steps of one agency's findings."""
    return feed("agency", slug)


@bp.get("/open-data")
def index() -> str:
    """Every format, its columns, the licence and the change-log head to hold us to."""
    with get_db().session() as session:
        head = chain_head(session)
    return render_template(
        "opendata/index.html",
        head=head,
        entity_fields=ENTITY_FIELDS,
        record_fields=RECORD_FIELDS,
        import_entities=set(columns_for("entities", "import")),
        import_records=set(columns_for("records", "import")),
        required=IMPORT_REQUIRED,
    )


@bp.get("/open-data/api")
def api_reference() -> str:
    """The API reference, rendered from the OpenAPI document on the server."""
    spec: dict[str, Any] = openapi_spec()
    return render_template("opendata/api.html", spec=spec)
