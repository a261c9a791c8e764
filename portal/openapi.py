"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

A test walks the app's url_map and fails when a route under /api/v1 is missing
here; another validates this document and fuzzes the read operations with
schemathesis, checking every answer against these schemas.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from portal.models import ENDED_STATUSES, EntityKind
from portal.services.screening import FEATURES
from scoring.model import MEASURES, NATURES, SEVERITIES
from search.base import UNDER_SANCTION

Schema = dict[str, Any]

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
DATE = {"type": "string", "format": "date"}
NDATE = {"type": ["string", "null"], "format": "date"}
TIMESTAMP = {"type": "string", "description": "ISO 8601 timestamp, UTC"}
NTIMESTAMP = {"type": ["string", "null"], "description": "ISO 8601 timestamp, UTC"}
NUM = {"type": "number"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
LINKS = {"type": "object", "additionalProperties": {"type": "string"}}
KINDS = [kind.value for kind in EntityKind]
ACTIONS = ["publish", "withdraw", "remediate", "submit", "approve", "lift", "confirm_lift"]
ERRORS = {
    "400": "The request is malformed (a bad parameter or body).",
    "401": "No valid API token.",
    "403": "The token's agency may not do this.",
    "404": "Nothing public has this identifier.",
    "409": "The record's state does not allow this step.",
    "413": "The request body is too large.",
    "422": "Some fields are invalid; details name each.",
    "429": "Too many requests from this address; see Retry-After.",
    "503": "The register's database is unavailable for a moment; try again.",
}


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


TYPES: dict[str, Schema] = {
    "str": STR, "nstr": NSTR, "date": DATE, "ndate": NDATE, "ts": TIMESTAMP,
    "nts": NTIMESTAMP, "num": NUM, "nnum": {"type": ["number", "null"]}, "int": INT,
    "bool": BOOL, "links": LINKS, "strs": {"type": "array", "items": STR},
    "obj": {"type": "object"}, "objs": {"type": "array", "items": {"type": "object"}},
    "counts": {"type": "object", "additionalProperties": INT},
}  # fmt: skip


def props(spec: str, **special: Schema) -> dict[str, Schema]:
    """Properties from "name:type ..." (type defaults to str), then the special ones."""
    found = {}
    for token in spec.split():
        name, _, kind = token.partition(":")
        found[name] = TYPES[kind or "str"]
    return found | special


def obj(fields: dict[str, Any], required: list[str] | None = None, **extra: Any) -> Schema:
    """An object schema; every listed property is required unless told otherwise."""
    return {"type": "object", "properties": fields, "required": required or list(fields), **extra}


def array(item: Schema) -> Schema:
    """An array of one kind of item."""
    return {"type": "array", "items": item}


def page_of(item: Schema, **extra: Schema) -> Schema:
    """The list envelope of every paged endpoint."""
    fields = props("total:int page:int per_page:int", items=array(item), **extra)
    return obj(fields, ["items", "total", "page", "per_page"])


def score_schemas() -> dict[str, Schema]:
    """The explained score and its parts."""
    factors = {"type": "object", "additionalProperties": NUM}
    points = {**NUM, "description": "Signed: negative for a deduction."}
    open_ended = "; null while a measure is in force until lifted."
    contribution = props(
        "record nature category severity decided_on:date base_points:num "
        "state remediation_would_restore:nnum measure:nstr in_force:bool counted_under:nstr",
        factors=factors,
        points=points,
        counts_until={**NDATE, "description": "The day it stops counting" + open_ended},
        full_weight_until={**NDATE, "description": "The last day at full weight" + open_ended},
    )
    sanction = props("record measure label since:date until:ndate under_appeal:bool")
    score = props(
        "value:num band band_label trusted:bool watchlist:bool as_of:date deductions:num "
        "credits:num credits_capped:num under_sanction:bool sanction_capped:bool",
        rulebook=obj(props("id version")),
        contributions=array(ref("Contribution")),
        sanctions=array(ref("Sanction")),
        next_changes=array(ref("ScoreChange")),
    )
    return {
        "Contribution": obj(contribution),
        "Sanction": obj(sanction, description="A debarment, suspension or listing in force."),
        "ScoreChange": obj(props("on:date value:num band record reason")),
        "Score": obj(score),
    }


def entity_schemas() -> dict[str, Schema]:
    """Entities, in lists and in full."""
    kind = {"enum": KINDS}
    summary = props(
        "slug name jurisdiction sector:nstr score:nnum band:nstr",
        kind=kind,
        sanction={
            **NSTR,
            "description": "While a sanction is in force: 'Debarred by ... until ...'.",
        },
    )
    office = props("role_title:nstr body:nstr term_start:ndate term_end:ndate")
    entity = props(
        "slug name aliases:strs jurisdiction sector:nstr registration_id:nstr parent:nstr "
        "links:links",
        kind=kind,
        score=ref("Score"),
        office=obj(office),
    )
    facets = {"type": "object", "additionalProperties": {"type": "object"}}
    return {
        "EntitySummary": obj(summary),
        "EntityList": page_of(
            ref("EntitySummary"),
            facets=facets,
            suggestion=NSTR,
            counts={
                **obj(props("entity:int", record={"type": ["integer", "null"]})),
                "description": "Matches of each kind for the same words (record: null "
                "without words); the findings are searched on /search?type=record.",
            },
        ),
        "Entity": obj(entity, [k for k in entity if k != "office"]),
        "Suggestions": obj({"items": array(obj(props("key name kind jurisdiction")))}),
    }


def record_schemas() -> dict[str, Schema]:
    """Records: list items, history, replies, appeals and the full record."""
    amount = {"type": "string", "pattern": r"^\d+(\.\d+)?$"}
    penalty = {**obj({"amount": amount, "currency": STR}), "type": ["object", "null"]}
    record = props(
        "ref entity agency category title summary:nstr statute:nstr occurred_on:ndate "
        "decided_on:date published_at:nts remediated_on:ndate source_url:nstr status "
        "revision:int links:links in_force_from:ndate in_force_until:ndate lifted_on:ndate "
        "lifted_reason:nstr",
        nature={"enum": list(NATURES)},
        severity={"enum": list(SEVERITIES)},
        penalty=penalty,
        measure={"enum": [*MEASURES, None], "description": "What the record imposes, if anything."},
        in_force_now={
            "type": ["boolean", "null"],
            "description": "Whether the measure is in force today; null without a period.",
        },
        case={
            **obj(props("agency:nstr id:nstr record:nstr")),
            "type": ["object", "null"],
            "description": "The case this record enforces; records of one case count once.",
        },
    )
    history = props("seq:int at:ts action label reason:nstr outcome:nstr changes:obj")
    full = {
        "allOf": [ref("Record")],
        **obj(
            {
                "history": array(ref("HistoryEntry")),
                "responses": array(ref("Reply")),
                "appeal": {"anyOf": [ref("Appeal"), {"type": "null"}]},
            }
        ),
    }
    ended = obj(
        props(
            "ref links:links",
            status={"enum": [status.value for status in ENDED_STATUSES]},
            history=array(ref("HistoryEntry")),
        ),  # fmt: skip
        additionalProperties=False,
        description="A withdrawn or overturned record: what happened, not the allegation.",
    )
    return {
        "Record": obj(record, [k for k in record if k != "links"]),
        "RecordList": page_of(ref("Record")),
        "HistoryEntry": obj(history),
        "Reply": obj(props("body published_at:ts")),
        "Appeal": obj(props("status filed_at:ts decided_at:nts decision_reason:nstr")),
        "PublicRecord": full,
        "EndedRecord": ended,
        "RecordDetail": {"anyOf": [ref("PublicRecord"), ref("EndedRecord")]},
    }


def directory_schemas() -> dict[str, Schema]:
    """Agencies, jurisdictions and the methodology."""
    agency = props(
        "slug name categories:strs requires_second_approval:bool website:nstr "
        "description:nstr links:links",
        jurisdiction={**NSTR, "description": "ISO 3166 code; null for an international body."},
    )
    stats = obj(props("filed:int by_outcome:counts median_days:nnum overdue:int"))
    agency_more = props("published_by_category:counts recent:strs", appeals=stats)
    place_more = props(
        "children:strs agencies:strs entities_by_band:counts recent:strs",
        rulebook=obj(props("id version")),
    )
    return {
        "Agency": obj(agency),
        "AgencyList": page_of(ref("Agency")),
        "AgencyDetail": {"allOf": [ref("Agency")], **obj(agency_more)},
        "Jurisdiction": obj(props("code name parent:nstr links:links")),
        "JurisdictionList": page_of(ref("Jurisdiction")),
        "JurisdictionDetail": {"allOf": [ref("Jurisdiction")], **obj(place_more)},
        "Methodology": obj(props("as_of:date formula selection in_force:objs all:objs")),
    }


def write_schemas() -> dict[str, Schema]:
    """Bodies of the regulators' write API, and the error every failure returns."""
    record_input = props(
        "entity_slug entity_registration_id category title decided_on:date source_id summary "
        "statute occurred_on:date penalty_currency source_url in_force_from:date "
        "in_force_until:date case_agency case_id case_record",
        measure={"enum": list(MEASURES)},
        severity={"enum": list(SEVERITIES)},
        nature={"enum": list(NATURES)},
        penalty_amount={"type": "string", "description": "A decimal, at most 2 places."},
        publish={"type": "boolean", "description": "Publish at once where allowed."},
    )
    action_input = props(
        "reason",
        remediated_on={**DATE, "description": "Required to remediate."},
        lifted_on={
            **DATE,
            "description": "Required to lift a measure early (with a reason); where the "
            "agency requires four eyes, a colleague confirms it with confirm_lift.",
        },
    )
    error = obj({"error": obj(props("code message", details={}))})
    return {
        "RecordInput": obj(
            record_input,
            ["category", "severity", "title", "decided_on"],
            description="Name the entity by entity_slug or entity_registration_id.",
        ),
        "ActionInput": obj(
            action_input, [], description="reason is required to withdraw and to lift."
        ),
        "Error": obj(error["properties"], description="Every failure, with its HTTP status."),
    }


def param(name: str, where: str, schema: Schema, text: str, required: bool = False) -> Schema:
    """One parameter."""
    return {"name": name, "in": where, "required": required or where == "path",
            "schema": schema, "description": text}  # fmt: skip


PAGING = [
    param("page", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "Page, from 1."),
    param("per_page", "query", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size."),
]
SLUG = param("slug", "path", {"type": "string", "maxLength": 120}, "The entity's slug.")
AGENCY = param("slug", "path", {"type": "string", "maxLength": 100}, "The agency's slug.")
REF = param("ref", "path", {"type": "string", "maxLength": 20}, "Public ref, R-2026-000123.")
CODE = param("code", "path", {"type": "string", "maxLength": 10}, "ISO 3166 code: GB, GB-WLS.")
SEARCH = [
    param("q", "query", {"type": "string", "maxLength": 200}, "Words of a name."),
    param("kind", "query", {"enum": KINDS}, "Kind of entity."),
    param("jurisdiction", "query", {"type": "string", "maxLength": 10}, "ISO 3166 code."),
    param("sector", "query", {"type": "string", "maxLength": 100}, "Sector."),
    param("band", "query", {"enum": list("ABCDE")}, "Score band."),
    param(
        "sanction",
        "query",
        {"enum": [UNDER_SANCTION]},
        "Only entities with a debarment, suspension or listing in force.",
    ),
    param("sort", "query", {"enum": ["relevance", "score", "date"]}, "Order of results."),
]


def _json(schema: Schema) -> Schema:
    """A JSON content block."""
    return {"application/json": {"schema": schema}}


def responses(ok: str, schema: Schema, errors: tuple[str, ...], status: str = "200") -> Schema:
    """A success answer (with its ETag on reads) and the listed errors."""
    success: Schema = {"description": ok, "content": _json(schema)}
    answers = {status: success}
    if status == "200":
        success["headers"] = {"ETag": {"schema": STR, "description": "Send as If-None-Match."}}
        answers["304"] = {"description": "Not modified since the ETag sent in If-None-Match."}
    for code in (*errors, "503"):
        answers[code] = {"description": ERRORS[code], "content": _json(ref("Error"))}
    if "429" in errors:
        answers["429"]["headers"] = {"Retry-After": {"schema": INT, "description": "Seconds."}}
    return answers


def read(summary: str, schema: str, params: list[Schema], errors: tuple[str, ...]) -> Schema:
    """A read operation: no account, rate-limited per address, CORS-enabled."""
    answers = responses(summary, ref(schema), ("400", *errors, "429"))
    # gunicorn answers (in HTML) before the app sees it: long non-ASCII text can pass the
    # 200-character limits and still not fit.
    answers["414"] = {"description": "The request line is over gunicorn's 4,094 bytes."}
    if SLUG in params:
        answers["301"] = {
            "description": "The entity was merged into another; Location is its address.",
            "headers": {"Location": {"schema": STR, "description": "The same path, new slug."}},
        }
    return {"summary": summary, "tags": ["read"], "parameters": params, "responses": answers}


def write(summary: str, body: str, params: list[Schema], status: str = "200") -> Schema:
    """A regulator's write operation, with a bearer token."""
    return {
        "summary": summary,
        "tags": ["write"],
        "security": [{"bearer": []}],
        "parameters": params,
        "requestBody": {"required": body == "RecordInput", "content": _json(ref(body))},
        "responses": responses(
            summary, ref("Record"), ("400", "401", "403", "404", "409", "413", "422", "429"), status
        ),
    }


def match_schemas() -> dict[str, Schema]:
    """Screening: the batch of names and, for each, the candidates with why they match."""
    query = props("name jurisdiction registration_id address kind")
    query["name"] = {**STR, "maxLength": 200}
    measure = props("record measure agency since:date until:ndate")
    candidate = props(
        "slug name kind jurisdiction score:num verdict matched_name band:nstr "
        "entity_score:nnum under_sanction:bool",
        features=array({"enum": list(FEATURES)}),
        measures_in_force=array(obj(measure)),
    )
    candidate["score"] = {**NUM, "minimum": 0, "maximum": 1}
    answer = props(
        "verdict",
        query={"type": "object"},
        candidates=array(ref("MatchCandidate")),
    )
    return {
        "MatchRequest": obj(
            {"queries": {**array(obj(query, ["name"])), "minItems": 1, "maxItems": 500}}
        ),
        "MatchCandidate": obj(candidate),
        "MatchResult": obj(answer),
        "MatchResponse": obj(
            props(
                "",
                data_as_of=obj(props("seq:int date:date")),
                results=array(ref("MatchResult")),
            )
        ),
    }


def match_operation() -> Schema:
    """POST /api/v1/match: a read that takes a body, so no ETag."""
    answers = {
        "200": {
            "description": "The candidates of each name",
            "content": _json(ref("MatchResponse")),
        }
    }
    for code in ("400", "422", "429", "503"):
        answers[code] = {"description": ERRORS[code], "content": _json(ref("Error"))}
    answers["429"]["headers"] = {"Retry-After": {"schema": INT, "description": "Seconds."}}
    return {
        "summary": "Screen up to 500 names against the register",
        "description": "Scores in [0, 1]: a match from 0.90, a possible match from 0.75 "
        "(docs/search.md has the formula and its precision and recall on real data).",
        "tags": ["read"],
        "parameters": [],
        "requestBody": {"required": True, "content": _json(ref("MatchRequest"))},
        "responses": answers,
    }


def paths() -> dict[str, Schema]:
    """Every route under /api/v1."""
    action = param("action", "path", {"enum": ACTIONS}, "The workflow step.")
    as_of = param("as_of", "query", DATE, "The day the score is wanted for (not in the future).")
    suggest = [param("q", "query", {"type": "string", "maxLength": 200}, "Start of a name.")]
    return {
        "/api/v1/entities": {"get": read("Search entities", "EntityList", SEARCH + PAGING, ())},
        "/api/v1/suggest": {"get": read("Name suggestions", "Suggestions", suggest, ())},
        "/api/v1/match": {"post": match_operation()},
        "/api/v1/entities/{slug}": {
            "get": read("An entity and its score", "Entity", [SLUG], ("404",))
        },  # fmt: skip
        "/api/v1/entities/{slug}/score": {
            "get": read("The score, today or as of a date", "Score", [SLUG, as_of], ("404", "422"))
        },
        "/api/v1/entities/{slug}/records": {
            "get": read("An entity's public records", "RecordList", [SLUG, *PAGING], ("404",))
        },
        "/api/v1/records": {"post": write("Create a draft record", "RecordInput", [], "201")},
        "/api/v1/records/{ref}": {
            "get": read("A record with its history", "RecordDetail", [REF], ("404",))
        },
        "/api/v1/records/{ref}/{action}": {
            "post": write("A workflow step on a record", "ActionInput", [REF, action])
        },
        "/api/v1/agencies": {"get": read("Agencies", "AgencyList", PAGING, ())},
        "/api/v1/agencies/{slug}": {"get": read("An agency", "AgencyDetail", [AGENCY], ("404",))},
        "/api/v1/jurisdictions": {"get": read("Jurisdictions", "JurisdictionList", PAGING, ())},
        "/api/v1/jurisdictions/{code}": {
            "get": read("A jurisdiction", "JurisdictionDetail", [CODE], ("404",))
        },
        "/api/v1/methodology": {"get": read("The rulebooks", "Methodology", [], ())},
        "/api/v1/openapi.json": {"get": read("This description", "OpenAPI", [], ())},
    }


DESCRIPTION = """\
The Accountability Portal's register as data: entities with their explained
scores, the public records behind them, agencies, jurisdictions and the
scoring methodology. Reads need no account; they are rate-limited per address
(300 a minute by default), answer with an ETag (send it back as If-None-Match
for a 304) and allow any origin (CORS, no credentials). Regulators write with a
bearer token from `portal tokens create`. Dates are ISO 8601, money is a
decimal string with its currency, and every failure is JSON
`{"error": {"code", "message", "details"}}` with the fitting status.
Register data: CC BY 4.0; imported data keeps its source's terms."""


@cache
def openapi_spec() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    schemas = {
        **score_schemas(),
        **entity_schemas(),
        **record_schemas(),
        **directory_schemas(),
        **write_schemas(),
        **match_schemas(),
        "OpenAPI": {"type": "object", "required": ["openapi", "paths"]},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Accountability Portal API",
            "version": "1",
            "description": DESCRIPTION,
            "license": {"name": "CC-BY-4.0 (data)", "identifier": "CC-BY-4.0"},
        },
        "tags": [
            {"name": "read", "description": "Public reads; no account needed."},
            {"name": "write", "description": "Regulators' writes, with a bearer token."},
        ],
        "paths": paths(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A regulator's token.",
                }
            },
        },
    }
