"""Searching the register: the index caught up first, refusals turned into messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
