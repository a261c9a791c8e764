"""Facet counts of a tantivy search, from one terms aggregation per facet."""

from __future__ import annotations

import tantivy
from tantivy import Query

from search.base import DocType
from search.query import FACETS

FACET_SIZE = 65_000


def aggregate_facets(
    searcher: tantivy.Searcher, matched: Query | None, doc_type: DocType, total: int
) -> dict[str, tuple[tuple[str, int], ...]]:
    """Counts of each facet value over the matches, by count descending then value."""
    names = FACETS[doc_type]
    if matched is None or not total:
        return {name: () for name in names}
    terms = {"size": FACET_SIZE, "segment_size": FACET_SIZE}
    found = searcher.aggregate(matched, {f: {"terms": {"field": f, **terms}} for f in names})
    out = {}
    for name in names:
        counts = ((str(b["key"]), int(b["doc_count"])) for b in found[name]["buckets"])
        out[name] = tuple(sorted((c for c in counts if c[0]), key=lambda c: (-c[1], c[0])))
    return out
