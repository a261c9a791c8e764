"""One tantivy search: ranking entities by tiers, sort orders, a page of hits, suggestions.

Entities rank as `search.ranking.rank` ranks them: each relevance tier is a
constant-score clause weighted by a power of 13, so the score spells the tier
counts; documents tied on a score come in name-length and name order from a
second query for just that tier combination. Records rank by tantivy's BM25.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import tantivy
from tantivy import Occur, Order, Query

from search.base import DocType, Hit, SearchQuery, SearchResults, Suggestion
from search.documents import vocabulary
from search.engines.tantivy.aggregations import aggregate_facets
from search.engines.tantivy.highlights import hit_highlights
from search.engines.tantivy.queries import (
    all_of,
    any_of,
    build_query,
    entity_tiers,
    filtered,
    name_starts,
    term,
    unscored,
)
from search.engines.tantivy.schema import CODES, SCHEMA, sort_keys
from search.query import ParsedQuery, corrected, fuzz_distance

TIER_BASE = 13  # a tier never counts more than MAX_TERMS (12) matches
TIER_WEIGHTS = tuple(float(TIER_BASE**i) for i in (4, 3, 2, 1, 0))
Ranked = list[tuple[tantivy.DocAddress, float]]
TOP_SLACK = 64  # hits fetched in a sort order at least, so that ties seldom need a query


def data_of(doc: tantivy.Document) -> dict[str, Any]:
    """A stored document's data."""
    data: dict[str, Any] = json.loads(doc["data"][0])
    return data


def count_of(result: tantivy.SearchResult) -> int:
    """How many documents a search matched (the bindings' stub lacks the attribute)."""
    return int(result.count)  # type: ignore[attr-defined]


class Run:
    """One search against one searcher of one document type; stored documents read once."""

    def __init__(self, searcher: tantivy.Searcher, doc_type: DocType) -> None:
        """Remember the searcher and the type searched."""
        self.searcher, self.doc_type = searcher, doc_type
        self._docs: dict[tuple[int, int], tuple[str, dict[str, Any]]] = {}

    def stored(self, addr: tantivy.DocAddress) -> tuple[str, dict[str, Any]]:
        """A document's key and stored data."""
        at = (addr.segment_ord, addr.doc)
        if at not in self._docs:
            doc = self.searcher.doc(addr)
            self._docs[at] = (str(doc["key"][0]), data_of(doc))
        return self._docs[at]

    def ordered(self, order: str, addrs: list[tantivy.DocAddress]) -> list[tantivy.DocAddress]:
        """All of `addrs` in a sort order: by their codes, then (where those tie) exactly."""
        if len(addrs) < 2:
            return addrs
        columns = [self.searcher.fast_field_values(f"{order}_{i}", addrs) for i in range(CODES)]
        pairs = sorted(zip(zip(*columns, strict=True), range(len(addrs)), strict=True))
        out = []
        for _codes, group in itertools.groupby(pairs, key=lambda pair: pair[0]):
            tied = [addrs[i] for _c, i in group]
            if len(tied) > 1:
                tied.sort(key=lambda a: sort_keys(self.doc_type, *self.stored(a))[order])
            out += tied
        return out

    def top(
        self, query: Query, need: int, order: str, level: int = 0
    ) -> tuple[list[tantivy.DocAddress], int]:
        """The first `need` matches in a sort order, and (at level 0) how many match.

        tantivy orders by one code, a few more than needed; if those tied on the
        last code are needed, they are ordered by the next code in a query of their own.
        """
        field, limit = f"{order}_{level}", max(need, TOP_SLACK)
        found = self.searcher.search(
            query, limit, count=level == 0, order_by_field=field, order=Order.Asc
        )
        total = count_of(found) if level == 0 else 0
        if len(found.hits) < limit:
            return self.ordered(order, [addr for _c, addr in found.hits])[:need], total
        last = found.hits[-1][0]
        head = self.ordered(order, [addr for code, addr in found.hits if code != last])
        if len(head) >= need:
            return head[:need], total
        tied = all_of([query, Query.term_query(SCHEMA, field, last)])
        if level + 1 < CODES:
            tail, _n = self.top(tied, need - len(head), order, level + 1)
        else:  # the same first 32 bytes: read the keys of every such document
            size = count_of(self.searcher.search(tied, 1, count=True))
            rest = [addr for _s, addr in self.searcher.search(tied, size, count=False).hits]
            tail = self.ordered(order, rest)[: need - len(head)]
        return head + tail, total


def _tier_counts(score: float) -> list[int]:
    """How many clauses of each tier a document matched, read from its score."""
    value, counts = round(score), []
    for weight in TIER_WEIGHTS:
        counts.append(int(value // weight))
        value -= int(counts[-1] * weight)
    return counts


def _one_level(matched: Query, tiers: list[list[Query]], counts: list[int]) -> Query:
    """The documents matching exactly `counts` clauses of each tier."""
    must, must_not = [matched], []
    for tier, count in zip(tiers, counts, strict=True):
        if count:
            must.append(any_of(tier, count))
        if tier and count < len(tier):
            must_not.append(any_of(tier, count + 1))
    return all_of(must, must_not)


def rank_entities(
    run: Run, matched: Query, tiers: list[list[Query]], depth: int
) -> tuple[Ranked, int]:
    """The best `depth` entities as `search.ranking.rank` orders them, and the total.

    Tier counts first (the score spells them), then the shorter name and the name;
    entities in no tier come last, in name order.
    """
    clauses = [(Occur.Must, unscored(matched))]
    clauses += [
        (Occur.Should, Query.const_score_query(q, weight))
        for tier, weight in zip(tiers, TIER_WEIGHTS, strict=True)
        for q in tier
    ]
    result = run.searcher.search(Query.boolean_query(clauses), depth, count=True)
    total = count_of(result)
    cut = result.hits[-1][0] if total > len(result.hits) else None
    ranked: Ranked = []
    for score, group in itertools.groupby(result.hits, key=lambda hit: hit[0]):
        counts = _tier_counts(score)
        order = "order_len" if any(counts) else "order_name"
        addrs = [addr for _s, addr in group]
        if score == cut:
            addrs, _n = run.top(_one_level(matched, tiers, counts), depth - len(ranked), order)
        else:
            addrs = run.ordered(order, addrs)
        relevance = float("".join(str(min(c, 9)) for c in counts))
        ranked += [(addr, relevance) for addr in addrs]
    return ranked, total


def _in_order(run: Run, matched: Query, q: SearchQuery, depth: int) -> tuple[Ranked, int]:
    """The first `depth` matches in a sort order, and the total."""
    addrs, total = run.top(matched, depth, "order_score" if q.sort == "score" else "order_name")
    return [(addr, 0.0) for addr in addrs], total


def _ranked(
    run: Run, q: SearchQuery, p: ParsedQuery, depth: int, fuzzy: bool
) -> tuple[Ranked, int, Query | None]:
    """The first `depth` hits in order, the total, and the query they match (None: nothing)."""
    if p.empty:
        if p.typed:
            return [], 0, None
        matched = filtered(None, q)
        return (*_in_order(run, matched, q, depth), matched)
    matched = filtered(build_query(p, q.doc_type, fuzzy), q)
    if q.sort != "relevance":
        found = _in_order(run, matched, q, depth)
    elif q.doc_type == "entity":
        found = rank_entities(run, matched, entity_tiers(p, fuzzy), depth)
    else:
        result = run.searcher.search(matched, depth, count=True)
        found = [(addr, score) for score, addr in result.hits], count_of(result)
    return (*found, matched)


def run_search(run: Run, q: SearchQuery, p: ParsedQuery, page: int, size: int) -> SearchResults:
    """One search: a page of hits, total, facets, "did you mean" (exact first, then fuzzy)."""
    ranked, total, matched = _ranked(run, q, p, page * size, False)
    fuzzy = False
    if not total and not p.empty and any(fuzz_distance(w) for w in p.terms):
        near = _ranked(run, q, p, page * size, True)
        if near[1]:
            (ranked, total, matched), fuzzy = near, True
    suggestion = None
    if fuzzy and ranked:
        best = run.stored(ranked[0][0])[1]
        suggestion = corrected(p.terms, vocabulary(q.doc_type, best))
    words = p.words()
    marked = tuple(suggestion.split()) + words[len(p.terms) :] if suggestion else words
    hits = []
    for addr, score in ranked[(page - 1) * size :]:
        key, data = run.stored(addr)
        marks = hit_highlights(q.doc_type, data, marked) if q.with_highlights else {}
        hits.append(Hit(q.doc_type, key, score, data, marks))
    facets = aggregate_facets(run.searcher, matched, q.doc_type, total) if q.with_facets else {}
    return SearchResults(tuple(hits), total, page, size, facets, suggestion, fuzzy)


def run_suggest(run: Run, p: ParsedQuery, limit: int) -> list[Suggestion]:
    """Entities whose name or alias words start with the typed words, name starts first."""
    starts = any_of([build_query(p, "entity"), name_starts(" ".join(p.terms))])
    matched = all_of([starts, unscored(term("doc_type", "entity"))])
    ranked, _total = rank_entities(run, matched, entity_tiers(p, False), min(limit, 100))
    out = []
    for addr, _score in ranked:
        key, data = run.stored(addr)
        sanction = data.get("sanction")
        out.append(Suggestion(key, data["name"], data["kind"], data["jurisdiction"], sanction))
    return out
