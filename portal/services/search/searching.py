"""Searching the register: the index caught up first, refusals turned into messages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from portal.errors import PortalError
from portal.services.search.index import SearchIndex
from search.base import (
    ENTITY_FACETS,
    MAX_QUERY_LENGTH,
    RECORD_FACETS,
    QueryRefused,
    SearchQuery,
    SearchResults,
    Suggestion,
)

SORTS = ("relevance", "score", "date")
MAX_PAGE = 500
MAX_VALUES = 20


def build_query(args: Mapping[str, Sequence[str]], per_page_default: int = 20) -> SearchQuery:
    """A SearchQuery from request arguments (each a list of values); PortalError on nonsense."""
    doc_type = _one(args, "type", "entity")
    if doc_type not in ("entity", "record"):
        raise PortalError("type must be entity or record.", {"type": doc_type[:20]})
    sort = _one(args, "sort", "relevance")
    if sort not in SORTS:
        raise PortalError(f"sort must be one of {', '.join(SORTS)}.", {"sort": sort[:20]})
    facets = ENTITY_FACETS if doc_type == "entity" else RECORD_FACETS
    filters = {}
    for name in facets:
        values = [v.strip() for v in args.get(name, []) if v.strip()]
        if len(values) > MAX_VALUES or any(len(v) > 100 for v in values):
            raise PortalError(f"Too many or too long values for {name}.", {name: "too long"})
        if values:
            filters[name] = tuple(dict.fromkeys(values))
    return SearchQuery(
        text=_one(args, "q", "")[: MAX_QUERY_LENGTH * 60],
        doc_type=doc_type,  # type: ignore[arg-type]
        filters=filters,
        sort=sort,  # type: ignore[arg-type]
        page=_int(args, "page", 1, 1, MAX_PAGE),
        per_page=_int(args, "per_page", per_page_default, 1, 100),
    )


def _one(args: Mapping[str, Sequence[str]], name: str, default: str) -> str:
    """The first value of an argument."""
    values = args.get(name) or [default]
    return values[0]


def _int(args: Mapping[str, Sequence[str]], name: str, default: int, low: int, high: int) -> int:
    """A bounded whole number argument."""
    raw = _one(args, name, str(default)) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise PortalError(f"{name} must be a whole number.", {name: raw[:20]}) from None
    if not low <= value <= high:
        raise PortalError(f"{name} must be between {low} and {high}.", {name: value})
    return value


def search_register(index: SearchIndex, query: SearchQuery) -> tuple[SearchResults, bool]:
    """Run a search on a current index; return the results and whether the index is current."""
    current = index.refresh()
    try:
        return index.backend.query(query), current
    except QueryRefused as exc:
        raise PortalError(str(exc), {"q": "refused"}) from None


def suggest_names(index: SearchIndex, prefix: str, limit: int = 8) -> list[Suggestion]:
    """Typeahead entries for what has been typed so far."""
    if not prefix.strip() or len(prefix) > MAX_QUERY_LENGTH:
        return []
    index.refresh()
    try:
        return index.backend.suggest(prefix, limit)
    except QueryRefused:
        return []


KINDS = ("all", "entity", "record")
# Findings shown beside the organisations on the default search page.
FINDINGS_SHOWN = 5
# Filters that mean the same for organisations and for findings.
SHARED_FILTERS = ("jurisdiction",)
_REF = re.compile(r"^\s*R[\s\-_]*(\d{4})[\s\-_]*(\d{1,6})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Everything:
    """The default search: organisations and officials, and the findings that match.

    `main` is what the page lists with facets and pages: the organisations, or the
    findings when only findings match; `findings` is the short list beside them.
    """

    kind: str
    query: SearchQuery
    main: SearchResults
    entity_total: int
    record_total: int
    findings: SearchResults | None


def search_kind(args: Mapping[str, Sequence[str]]) -> str:
    """all (the default: every kind), entity or record; PortalError for anything else."""
    kind = _one(args, "type", "all") or "all"
    if kind not in KINDS:
        raise PortalError("type must be all, entity or record.", {"type": kind[:20]})
    return kind


def record_ref(text: str) -> str | None:
    """A record reference as typed ("r-2026-123", "R 2026 000123"), in its own form, or None."""
    found = _REF.match(text)
    return f"R-{found.group(1)}-{int(found.group(2)):06d}" if found else None


def find_record(index: SearchIndex, text: str) -> tuple[str, str] | None:
    """The ref and title of the public record a query names exactly by its ref, or None."""
    ref = record_ref(text)
    if ref is None:
        return None
    query = SearchQuery(
        text=ref, doc_type="record", per_page=1, with_facets=False, with_highlights=False
    )
    results, _current = search_register(index, query)
    if results.hits and results.hits[0].key == ref:
        return ref, str(results.hits[0].fields.get("title") or "")
    return None


def find_record_ref(index: SearchIndex, text: str) -> str | None:
    """The ref of the public record a query names exactly, or None."""
    found = find_record(index, text)
    return found[0] if found else None


def search_everything(
    index: SearchIndex, args: Mapping[str, Sequence[str]]
) -> tuple[Everything, bool]:
    """Organisations and officials with their facets, and the findings that match."""
    entity_query = build_query({**args, "type": ["entity"]})
    entities, current = search_register(index, entity_query)
    shared = {k: v for k, v in args.items() if k in ("q", *SHARED_FILTERS)}
    record_query = replace(
        build_query({**shared, "type": ["record"]}),
        per_page=FINDINGS_SHOWN,
        with_facets=False,
    )
    findings, _current = search_register(index, record_query)
    if entities.total == 0 and findings.total > 0 and entity_query.page == 1:
        # Only findings match: list them in full, with their facets, instead of "0 results".
        query = build_query({**args, "type": ["record"]})
        main, _current = search_register(index, query)
        return Everything("record", query, main, 0, findings.total, None), current
    shown = findings if findings.total else None
    return (
        Everything("entity", entity_query, entities, entities.total, findings.total, shown),
        current,
    )


def count_matches(index: SearchIndex, query: SearchQuery, doc_type: str) -> int:
    """How many documents of another kind the same words match (no facets, no hits)."""
    other = replace(
        query,
        doc_type=doc_type,  # type: ignore[arg-type]
        filters={k: v for k, v in query.filters.items() if k in SHARED_FILTERS},
        page=1,
        per_page=1,
        with_facets=False,
        with_highlights=False,
        sort="relevance",
    )
    return search_register(index, other)[0].total
