"""One whoosh search over a view: matches, ranking, facets and highlights.

Entities are ranked by `search.ranking.rank`, records by whoosh's BM25F (or, for
very many matches, by `search.ranking.tiered`). A search that finds nothing is
retried with near spellings ("did you mean").
"""

from __future__ import annotations

import functools
import html
from collections import Counter
from collections.abc import Hashable
from typing import Any

from whoosh import highlight  # type: ignore[import-untyped]

from search.base import DocType, Hit, SearchQuery, SearchResults
from search.documents import vocabulary
from search.engines.whoosh.queries import build_query, entity_tiers, record_tiers
from search.engines.whoosh.schema import NAMES, TEXT_ANALYZER, stems_of
from search.engines.whoosh.view import View
from search.names import name_spans
from search.query import FACETS, ParsedQuery, checked_filters, corrected, fuzz_distance
from search.ranking import facet_counts, rank, sorted_counts, tiered

# Records matching more than this are ranked by where the words are (`record_tiers`), newest
# first, instead of by BM25: whoosh scores every match in Python (0.8 s for 400,000).
BM25_MAX_RECORDS = 5_000


class MarkFormatter(highlight.Formatter):  # type: ignore[misc]
    """Highlights as `<mark>` around matched words, every other character HTML-escaped."""

    between = " … "

    def _text(self, text: str) -> str:
        """Escape text between matches."""
        return html.escape(text)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        """Escape a matched word and mark it."""
        return f"<mark>{html.escape(highlight.get_text(text, token, replace))}</mark>"


def _marked(text: str, terms: set[str], analyzer: Any, fragmenter: Any) -> str:
    """`text` as escaped HTML with the words in `terms` marked, or "" if none is there."""
    formatter = MarkFormatter()
    return str(highlight.highlight(text, terms, analyzer, fragmenter, formatter, top=2))


def hit_highlights(
    doc_type: DocType, data: dict[str, Any], words: tuple[str, ...]
) -> dict[str, str]:
    """Marked name (entity) or title and summary (record) of one hit."""
    if doc_type == "entity":
        name = data["name"]
        terms = {t for t, _s, _e in name_spans(name) if any(t.startswith(w) for w in words)}
        whole = highlight.WholeFragmenter()
        return {"name": _marked(name, terms, NAMES, whole) or html.escape(name)}
    stems = {s for w in words for s in stems_of(w)}
    title = _marked(data["title"], stems, TEXT_ANALYZER, highlight.WholeFragmenter())
    out = {"title": title or html.escape(data["title"])}
    summary = data.get("summary") or ""
    context = highlight.ContextFragmenter(maxchars=240, surround=60)
    snippet = _marked(summary, stems, TEXT_ANALYZER, context)
    if snippet or summary:
        out["summary"] = snippet or html.escape(summary[:240]) + ("…" if len(summary) > 240 else "")
    return out


def _base_sets(view: View, q: SearchQuery) -> tuple[Hashable, list[set[int]]]:
    """The sets a hit must be in (live documents of the type, each filter's values),
    and a key naming that combination."""
    filters = tuple((f, tuple(sorted(v))) for f, v in checked_filters(q))
    sets = [view.term_docs("doc_type", q.doc_type)]
    sets += [view.any_of(field, values) for field, values in filters]
    return (q.doc_type, filters), sets


def _universe(view: View, key: Hashable, base: list[set[int]]) -> set[int]:
    """Every live document of the type that passes the filters (cached per view)."""
    return view.memo(key, lambda: base[0].intersection(*base[1:]), bounded=True)


def _facets(
    view: View, q: SearchQuery, matched: set[int], sets: tuple[Hashable, list[set[int]]]
) -> dict[str, Any]:
    """Facet counts over `matched`. When it holds most of what passes the filters (a very
    common word, or no words), they are the filters' counts (cached) less those of the
    few documents left out, instead of a count over hundreds of thousands. `sets` are
    the query's `_base_sets`."""
    key, base = sets
    universe = _universe(view, key, base)
    out = {}
    for f in FACETS[q.doc_type]:
        column = view.column(f)
        if len(matched) * 2 <= len(universe):
            out[f] = facet_counts(column, matched)
            continue
        count_all = functools.partial(_count_values, column, universe)
        whole = view.memo(("facets", key, f), count_all, bounded=True)
        out[f] = sorted_counts(whole - _count_values(column, universe - matched))
    return out


def _count_values(column: list[Any], docs: set[int]) -> Counter[Any]:
    """How many of `docs` hold each value of a column."""
    return Counter(map(column.__getitem__, docs))


def _matches(
    view: View, parsed: ParsedQuery, q: SearchQuery, base: list[set[int]]
) -> tuple[Any, set[int], bool]:
    """The query that found something (exact first, then fuzzy), its hits, and if fuzzy."""
    wq = build_query(parsed, q.doc_type)
    matched = view.match(wq).intersection(*base)
    if matched or not any(fuzz_distance(w) for w in parsed.terms):
        return wq, matched, False
    wq = build_query(parsed, q.doc_type, fuzzy=True)
    matched = view.match(wq).intersection(*base)
    return wq, matched, bool(matched)


def rank_entities(
    view: View, p: ParsedQuery, matched: set[int], depth: int, fuzzy: bool
) -> list[tuple[int, float]]:
    """The best `depth` entities by tiers; the rest of the page in name order."""
    ranked = rank(matched, entity_tiers(view, p, fuzzy), view.column("sort_name"), depth)
    if len(ranked) < depth:
        rest = matched.difference(d for d, _s in ranked)
        ranked += [(d, 0.0) for d in view.top(rest, "entity", "relevance", depth - len(ranked))]
    return ranked


def _ranked(
    view: View,
    q: SearchQuery,
    p: ParsedQuery,
    depth: int,
    sets: tuple[Hashable, list[set[int]]],
) -> tuple[list[tuple[int, float]], set[int], bool]:
    """Matching documents (exact, else fuzzy) and the first `depth` of them in order."""
    key, base = sets
    if p.empty:
        matched: set[int] = set()
        if not p.typed:
            matched = _universe(view, key, base)
        return [(d, 0.0) for d in view.top(matched, q.doc_type, q.sort, depth)], matched, False
    wq, matched, fuzzy = _matches(view, p, q, base)
    if q.sort != "relevance" or not matched:
        ranked = [(d, 0.0) for d in view.top(matched, q.doc_type, q.sort, depth)]
    elif q.doc_type == "entity":
        ranked = rank_entities(view, p, matched, depth, fuzzy)
    elif len(matched) > BM25_MAX_RECORDS:
        ranked = tiered(
            matched,
            record_tiers(view, p, fuzzy),
            depth,
            lambda docs, n: view.top(docs, "record", "date", n),
        )
    else:
        results = view.searcher.search(wq, filter=matched, limit=depth)
        ranked = [(hit.docnum, float(hit.score or 0.0)) for hit in results]
    return ranked, matched, fuzzy


def run_search(view: View, q: SearchQuery, p: ParsedQuery, page: int, size: int) -> SearchResults:
    """One search against one view: a page of hits, total, facets, "did you mean"."""
    sets = _base_sets(view, q)
    ranked, matched, fuzzy = _ranked(view, q, p, page * size, sets)
    suggestion = None
    if fuzzy and ranked:
        best = view.searcher.stored_fields(ranked[0][0])["data"]
        suggestion = corrected(p.terms, vocabulary(q.doc_type, best))
    words = p.words()
    marked = tuple(suggestion.split()) + words[len(p.terms) :] if suggestion else words
    hits = []
    for docnum, score in ranked[(page - 1) * size :]:
        stored = view.searcher.stored_fields(docnum)
        data = stored["data"]
        highlights = hit_highlights(q.doc_type, data, marked) if q.with_highlights else {}
        hits.append(Hit(q.doc_type, stored["key"], score, data, highlights))
    facets = _facets(view, q, matched, sets) if q.with_facets else {}
    return SearchResults(tuple(hits), len(matched), page, size, facets, suggestion, fuzzy)
