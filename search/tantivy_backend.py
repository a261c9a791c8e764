"""The tantivy engine: the same documents, matching and ranking as whoosh, for large registers.

Tantivy's Python bindings take no custom analysers, so text is analysed here
(`search.names`, `search.query`, `search.documents`) and indexed as space-separated tokens with
tantivy's `whitespace` tokenizer; exact values use `raw`. Every word is
indexed with its first letter tripled ("acme" -> "aaacme"): tantivy's fuzzy
query has no fixed prefix, and whoosh's keeps the first letter, so a changed
first letter must cost three edits. Fields: `name`, `aliases`, `entity_name`,
`agency_name` (folded words, legal forms in one spelling), `title`, `summary`,
`statute` (the same, stop words dropped and Snowball-stemmed), `name_ngram`
(edge n-grams 2-15 of name and alias words), `name_key`/`name_start` (the whole
folded name, and its prefixes), `ident`, the facet columns, `jurisdictions`
(a code and its parents) and three sort keys (`sort_keys`), each held as four
numbers, its first 32 bytes: tantivy orders by numbers far faster than by text.

Entities rank as `search.ranking.rank` ranks them: each relevance tier is a
constant-score clause weighted by a power of 13, so the score spells the tier
counts; documents tied on a score come in name-length and name order from a
second query for just that tier combination. Records rank by tantivy's BM25.

On disk the directory holds `CURRENT`, the `gen-*` generations and the
`.write.lock`/`.rebuild.lock` files (see `search.store.Generations`). The
change-log seq is a metadata document committed with the documents it
describes; readers reload when `CURRENT` or the generation's `meta.json` change.
"""

from __future__ import annotations

import functools
import html
import itertools
import json
import logging
import os
import shutil
import struct
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import tantivy
from tantivy import Occur, Order, Query

from search.base import (
    ENTITY_FACETS,
    RECORD_FACETS,
    ChangeBatch,
    Doc,
    DocType,
    Hit,
    QueryRefused,
    SearchQuery,
    SearchResults,
    Suggestion,
)
from search.documents import (
    SEVERITY_RANK,
    doc_fields,
    name_key_of,
    searchable_fields,
    uid_of,
    vocabulary,
)
from search.names import name_spans
from search.query import (
    FACETS,
    ParsedQuery,
    checked_filters,
    corrected,
    fuzz_distance,
    paging,
    parse_query,
)
from search.store import Generations, SingleWriter, file_lock

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 1
META_UID = "meta:seq"
WRITE_HEAP = 15_000_000  # tantivy's least arena per writer thread
REBUILD_HEAP = 256_000_000
NGRAM_MAX = 15
START_MAX = 8  # whole-name prefixes indexed up to this many characters (shared by many)
SORT_CAP = 1000
TIER_BASE = 13  # a tier never counts more than MAX_TERMS (12) matches
TIER_WEIGHTS = tuple(float(TIER_BASE**i) for i in (4, 3, 2, 1, 0))
FACET_SIZE = 65_000
SNIPPET_CHARS, SNIPPET_SURROUND, CHAR_LIMIT = 240, 60, 2**15
# whoosh's default English stop list (StopFilter drops these and words under 2 letters).
STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the "  # noqa: SIM905
    "this to us we when will with yet you your".split()
)
NAME_FIELDS = ("name", "aliases", "entity_name", "agency_name")
STEM_FIELDS = ("title", "summary", "statute")
RAW_FIELDS = ("uid", "doc_type", "ident", "entity_key", "name_key")
LIST_FIELDS = ("name_ngram", "name_start", "jurisdictions")
FACET_FIELDS = tuple(sorted(set(ENTITY_FACETS) | set(RECORD_FACETS)))
ORDERS = ("order_name", "order_score", "order_len")
CODES = 4  # u64 numbers per sort key: its first 32 bytes, in order


def _schema() -> tantivy.Schema:
    """Every field, as described in the module docstring."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_bytes_field("data", stored=True)
    for name in RAW_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in NAME_FIELDS + STEM_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace")
    for name in LIST_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="basic")
    for name in FACET_FIELDS:
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    for order in ORDERS:
        for i in range(CODES):
            builder.add_unsigned_field(f"{order}_{i}", indexed=True, fast=True)
    return builder.build()


SCHEMA = _schema()
_STEMMER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
    .filter(tantivy.Filter.stemmer("english"))
    .build()
)
_STEM_LOCK = threading.Lock()

# -- analysis ------------------------------------------------------------------------------


def _pad(word: str) -> str:
    """A word as indexed: its first letter tripled, so fuzzy matches keep the first letter."""
    return word[:1] * 2 + word


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """The English Snowball stem of one folded word."""
    with _STEM_LOCK:
        stems = _STEMMER.analyze(word)
    return stems[0] if stems and stems[0] else word


def _text_tokens(text: str) -> list[tuple[str, int, int, bool]]:
    """Record-text tokens: (stem, or the word if it is a stop word; start; end; matchable)."""
    out = []
    for word, start, end in name_spans(text):
        stop = len(word) < 2 or word in STOP_WORDS
        out.append((word if stop else _stem(word), start, end, not stop))
    return out


def _stems(text: str) -> list[str]:
    """Record text as indexed: stems of the words that are not stop words."""
    return [stem for stem, _s, _e, keep in _text_tokens(text) if keep]


def _words(text: str) -> str:
    """Name text as indexed: padded folded words."""
    return " ".join(_pad(t) for t, _s, _e in name_spans(text))


def _ngrams(*texts: str) -> str:
    """Edge n-grams (2 to 15 letters) of every word of the names.

    whoosh reads the name and aliases as one text; here each is read alone (its
    words are already known), which differs only for a legal form split between them.
    """
    words = {t for text in texts if text for t, _s, _e in name_spans(text) if len(t) >= 2}
    return " ".join(w[:n] for w in words for n in range(2, min(NGRAM_MAX, len(w)) + 1))


def _starts(name_key: str) -> str:
    """Prefixes of the whole folded name (spaces as `_`), up to START_MAX characters."""
    key = name_key.replace(" ", "_")
    return " ".join(key[:n] for n in range(1, min(START_MAX, len(key)) + 1) if key[n - 1] != "_")


def _descending(value: float) -> bytes:
    """Eight bytes that sort floats from largest to smallest."""
    bits = int.from_bytes(struct.pack(">d", value), "big")
    rising = bits ^ (2**64 - 1) if bits >> 63 else bits | 2**63
    return (rising ^ (2**64 - 1)).to_bytes(8, "big")


def sort_keys(doc_type: str, key: str, data: Mapping[str, Any]) -> dict[str, bytes]:
    """A document's sort keys as bytes, each ending in its key, from its stored data.

    Entities: by name (`order_name`), by score then name, by name length then
    name (`order_len`, relevance ties). Records: by decision date (newest first)
    then title, or by severity (most severe first) then date. Names compare as
    whoosh compares them: folded name keys as UTF-8 bytes.
    """
    tail = b"\x00" + key.encode()
    if doc_type == "entity":
        name = name_key_of(data["name"]).encode()
        score = data.get("score")
        num = _descending(-1.0 if score is None else float(score))
        size = min(len(name), 2**16 - 1).to_bytes(2, "big")
        name = name[:SORT_CAP] + tail
        return {"order_name": name, "order_score": num + name, "order_len": size + name}
    when = _descending(float(date.fromisoformat(data["decided_on"]).toordinal()))
    severity = bytes([9 - SEVERITY_RANK.get(data["severity"], 0)])
    title = name_key_of(data["title"]).encode()[:SORT_CAP]
    return {"order_name": when + title + tail, "order_score": severity + when + tail}


def _codes(key: bytes) -> list[int]:
    """The first CODES * 8 bytes of a sort key as numbers that sort as the bytes do."""
    return [int.from_bytes(key[i : i + 8].ljust(8, b"\x00"), "big") for i in range(0, CODES * 8, 8)]


@functools.lru_cache(maxsize=65536)
def _indexed_stem(word: str) -> str:
    """A record-text word as indexed: stemmed and padded ("" for a stop word)."""
    return "" if len(word) < 2 or word in STOP_WORDS else _pad(_stem(word))


def _stemmed(text: str) -> str:
    """Record text as indexed: padded stems, stop words left out."""
    return " ".join(filter(None, (_indexed_stem(w) for w, _s, _e in name_spans(text))))


Plan = tuple[tuple[str, Callable[[str], str] | None], ...]
# The fields of `search.documents.doc_fields` indexed as they are (None) or converted.
_PLANS: dict[str, Plan] = {
    "entity": (
        *(("uid", None), ("doc_type", None), ("name", _words), ("aliases", _words)),
        *(("ident", None), ("jurisdictions", None), *((f, None) for f in ENTITY_FACETS)),
    ),
    "record": (
        *(("uid", None), ("doc_type", None), *((f, _stemmed) for f in STEM_FIELDS)),
        *(("entity_name", _words), ("agency_name", _words), ("entity_key", None)),
        *(("ident", None), ("jurisdictions", None), *((f, None) for f in RECORD_FACETS)),
    ),
}


def _document(fields: Mapping[str, Any]) -> tantivy.Document:
    """Index fields (`search.documents.doc_fields`) as a tantivy document."""
    doc = tantivy.Document()
    doc.add_text("key", fields["key"])
    doc.add_bytes("data", json.dumps(fields["data"], separators=(",", ":")).encode())
    for name, convert in _PLANS[fields["doc_type"]]:
        value = fields[name]
        if value:
            doc.add_text(name, convert(value) if convert else value)
    if fields["doc_type"] == "entity":
        key = fields["sort_name"][:SORT_CAP]
        doc.add_text("name_key", key)
        doc.add_text("name_start", _starts(key))
        doc.add_text("name_ngram", _ngrams(fields["name"], fields["aliases"]))
    for order, sort_key in sort_keys(fields["doc_type"], fields["key"], fields["data"]).items():
        for i, code in enumerate(_codes(sort_key)):
            doc.add_unsigned(f"{order}_{i}", code)
    return doc


def _meta(seq: int) -> tantivy.Document:
    """The metadata document: the change-log seq and the schema version."""
    doc = tantivy.Document()
    doc.add_text("uid", META_UID)
    doc.add_text("doc_type", "meta")
    doc.add_bytes("data", json.dumps({"seq": seq, "schema": SCHEMA_VERSION}).encode())
    return doc


# -- queries -------------------------------------------------------------------------------


def _term(field: str, value: str) -> Query:
    """Documents holding one exact term."""
    return Query.term_query(SCHEMA, field, value)


def _word(field: str, word: str) -> Query:
    """Documents holding one (padded) word in a text field."""
    return _term(field, _pad(word))


def _boost(query: Query, boost: float) -> Query:
    """A query whose score is multiplied by `boost`."""
    return query if boost == 1.0 else Query.boost_query(query, boost)


def _any(queries: Sequence[Query], at_least: int = 1) -> Query:
    """Documents matching at least `at_least` of the queries (none: nothing)."""
    if not queries:
        return Query.empty_query()
    if len(queries) == 1 and at_least == 1:
        return queries[0]
    should = [(Occur.Should, q) for q in queries]
    return Query.boolean_query(should, minimum_number_should_match=at_least)


def _all(queries: Sequence[Query], excluded: Sequence[Query] = ()) -> Query:
    """Documents matching every query and none of `excluded`."""
    if len(queries) == 1 and not excluded:
        return queries[0]
    clauses = [(Occur.Must, q) for q in queries] + [(Occur.MustNot, q) for q in excluded]
    return Query.boolean_query(clauses)


def _unscored(query: Query) -> Query:
    """The same documents, adding nothing to the score."""
    return Query.const_score_query(query, 0.0)


def _fuzzy(field: str, word: str, boost: float = 1.0) -> list[Query]:
    """Near spellings of a word long enough to have typos (`search.query.fuzz_distance`).

    As in whoosh: Levenshtein distance, two swapped letters counting as one
    edit for words allowed one, the first letter kept (by the padding).
    """
    dist = fuzz_distance(word)
    if not dist:
        return []
    fuzzy = Query.fuzzy_term_query(SCHEMA, field, _pad(word), dist, dist == 1)
    return [_boost(fuzzy, boost)]


def _entity_word(word: str, fuzzy: bool) -> Query:
    """One typed word an entity must have: a name or alias word starting with it (or near it)."""
    if len(word) >= 2:
        subs = [_term("name_ngram", word[:NGRAM_MAX])]
    else:
        subs = [_word("name", word), _word("aliases", word)]
    if fuzzy:
        subs += _fuzzy("name", word) + _fuzzy("aliases", word)
    return _any(subs)


def _record_word(word: str, fuzzy: bool) -> Query:
    """One typed word against a record: stemmed text fields and the names it carries."""
    subs = [_boost(_word("entity_name", word), 2.0), _word("agency_name", word)]
    for stem in _stems(word):
        subs += [_boost(_word("title", stem), 3.0), _word("summary", stem)]
        subs.append(_word("statute", stem))
        if fuzzy:
            subs += _fuzzy("title", stem, 1.5) + _fuzzy("summary", stem, 0.5)
    if fuzzy:
        subs += _fuzzy("entity_name", word)
    return _any(subs)


def _phrase(doc_type: DocType, words: tuple[str, ...]) -> Query:
    """A quoted phrase: consecutive words in a name, or in record text once stemmed."""
    if doc_type == "entity":
        fields = [("name", words, 3.0), ("aliases", words, 1.5)]
    else:
        stems = tuple(_stems(" ".join(words)))
        fields = [("entity_name", words, 2.0)]
        fields += [(f, stems, b) for f, b in (("title", 3.0), ("summary", 1.0), ("statute", 1.0))]
    return _any(
        [
            _boost(Query.phrase_query(SCHEMA, f, [_pad(w) for w in ws]), b)
            for f, ws, b in fields
            if len(ws) > 1
        ]
    )


def build_query(p: ParsedQuery, doc_type: DocType, fuzzy: bool = False) -> Query:
    """The tantivy query for parsed user text; `fuzzy` also accepts near spellings."""
    word = _entity_word if doc_type == "entity" else _record_word
    required = [w for w in p.required() if doc_type == "entity" or _stems(w)] or list(p.terms)
    parts = [word(w, fuzzy) for w in required] + [_phrase(doc_type, ph) for ph in p.phrases]
    text_q = _all(parts) if parts else Query.empty_query()
    optional = [word(w, False) for w in p.terms if w not in required]
    if parts and optional and doc_type == "record":
        text_q = Query.boolean_query([(Occur.Must, text_q), (Occur.Should, _any(optional))])
    if p.ident:
        return _any([text_q, _boost(_term("ident", p.ident), 10.0)])
    return text_q


def _name_starts(key: str) -> Query:
    """Entities whose folded name starts with `key`."""
    if len(key) <= START_MAX:
        return _term("name_start", key.replace(" ", "_"))
    # One prefix term reads the names in that range of the term dictionary (few, this long).
    return Query.phrase_prefix_query(SCHEMA, "name_key", [key[:SORT_CAP]])


def _entity_tiers(p: ParsedQuery, fuzzy: bool) -> list[list[Query]]:
    """Entity relevance tiers, the first deciding first (as in the whoosh engine).

    Registration id, whole name, name start, words whole in the name (near
    them, when fuzzy), then words in an alias.
    """
    key = " ".join(p.terms)
    words = p.words()
    if fuzzy:
        name_words = [q for w in words for q in _fuzzy("name", w)]
    else:
        name_words = [_word("name", w) for w in words]
    return [
        [_term("ident", p.ident)] if p.ident else [],
        [_term("name_key", key[:SORT_CAP])] if key else [],
        [_name_starts(key)] if key else [],
        name_words,
        [_word("aliases", w) for w in words],
    ]


def _filtered(text_q: Query | None, q: SearchQuery) -> Query:
    """Documents of the query's type passing its filters (and matching `text_q`)."""
    parts = [] if text_q is None else [text_q]
    parts.append(_unscored(_term("doc_type", q.doc_type)))
    for name, values in checked_filters(q):
        # Terms, not a term set: tantivy reads a term set's documents whole, before intersecting.
        parts.append(_unscored(_any([_term(name, v) for v in dict.fromkeys(values)])))
    return _all(parts)


# -- highlights (as whoosh's highlighter marks them) -----------------------------------------

Token = tuple[str, int, int, bool]


def _format(text: str, start: int, end: int, marks: Iterable[Token]) -> str:
    """text[start:end] HTML-escaped, with the marked tokens in <mark>."""
    out, index = [], start
    for _t, s, e, _m in sorted(marks, key=lambda t: (t[1], t[1] - t[2])):
        if s >= index:
            out += [html.escape(text[index:s]), f"<mark>{html.escape(text[s:e])}</mark>"]
            index = e
    return "".join(out) + html.escape(text[index:end])


def _whole(text: str, tokens: Iterable[Token], terms: set[str]) -> str:
    """The whole text with tokens in `terms` marked, or "" when none is there."""
    marks = []
    for token in tokens:
        if token[2] > CHAR_LIMIT:
            break
        if token[0] in terms:
            marks.append(token)
    return _format(text, 0, len(text), marks) if marks else ""


def _fragments(tokens: Iterable[Token], terms: set[str]) -> Iterator[tuple[int, int, list[Token]]]:
    """Passages around matched tokens, as whoosh's ContextFragmenter(240, 60) cuts them."""
    first: int | None = None
    firsts: deque[int] = deque()
    countdown, marks, end, size = -1, [], 0, 0
    for token in tokens:
        matched, start, end = token[0] in terms, token[1], token[2]
        if end > CHAR_LIMIT:
            break
        if countdown < 0 and not matched:
            firsts.append(start)
            while firsts and end - firsts[0] > SNIPPET_SURROUND:
                firsts.popleft()
        elif size + end - start > SNIPPET_CHARS:
            countdown = 0
        elif matched:
            countdown = SNIPPET_SURROUND
            if first is None:
                first = firsts[0] if firsts else start
                countdown += 0 if firsts else SNIPPET_SURROUND
            marks.append(token)
        if countdown >= 0:
            size, countdown = size + end - start, countdown - (end - start)
            if countdown <= 0:
                yield (first or 0, end, marks)
                first, firsts, marks, size = None, deque(), [], 0
    if marks:
        yield (first or 0, end, marks)


def _snippet(text: str, terms: set[str]) -> str:
    """The two best passages of `text` with matched words marked, joined by " … "."""
    scored = [
        (len(m) * (len({t[0] for t in m}) * 100 or 1), start, end, m)
        for start, end, m in _fragments(_text_tokens(text), terms)
    ]
    best = sorted((f for f in sorted(scored, reverse=True)[:2] if f[0] >= 1), key=lambda f: f[1])
    return " … ".join(_format(text, start, end, m) for _score, start, end, m in best)


def _highlights(
    doc_type: DocType, data: Mapping[str, Any], words: tuple[str, ...]
) -> dict[str, str]:
    """Marked name (entity) or title and summary (record) of one hit."""
    if doc_type == "entity":
        name = data["name"]
        spans = [(t, s, e, True) for t, s, e in name_spans(name)]
        terms = {t for t, _s, _e, _m in spans if any(t.startswith(w) for w in words)}
        return {"name": _whole(name, spans, terms) or html.escape(name)}
    stems = {s for w in words for s in _stems(w)}
    title = data["title"]
    out = {"title": _whole(title, _text_tokens(title), stems) or html.escape(title)}
    summary = data.get("summary") or ""
    snippet = _snippet(summary, stems)
    if snippet or summary:
        out["summary"] = snippet or html.escape(summary[:240]) + ("…" if len(summary) > 240 else "")
    return out


# -- searching -----------------------------------------------------------------------------

Ranked = list[tuple[tantivy.DocAddress, float]]
MEMO_SIZE = 256
TOP_SLACK = 64  # hits fetched in a sort order at least, so that ties seldom need a query


def _data_of(doc: tantivy.Document) -> dict[str, Any]:
    """A stored document's data."""
    data: dict[str, Any] = json.loads(doc["data"][0])
    return data


def _count(result: tantivy.SearchResult) -> int:
    """How many documents a search matched (the bindings' stub lacks the attribute)."""
    return int(result.count)  # type: ignore[attr-defined]


class _Run:
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
            self._docs[at] = (str(doc["key"][0]), _data_of(doc))
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
        total = _count(found) if level == 0 else 0
        if len(found.hits) < limit:
            return self.ordered(order, [addr for _c, addr in found.hits])[:need], total
        last = found.hits[-1][0]
        head = self.ordered(order, [addr for code, addr in found.hits if code != last])
        if len(head) >= need:
            return head[:need], total
        tied = _all([query, Query.term_query(SCHEMA, field, last)])
        if level + 1 < CODES:
            tail, _n = self.top(tied, need - len(head), order, level + 1)
        else:  # the same first 32 bytes: read the keys of every such document
            size = _count(self.searcher.search(tied, 1, count=True))
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
            must.append(_any(tier, count))
        if tier and count < len(tier):
            must_not.append(_any(tier, count + 1))
    return _all(must, must_not)


def _rank_entities(
    run: _Run, matched: Query, tiers: list[list[Query]], depth: int
) -> tuple[Ranked, int]:
    """The best `depth` entities as `search.ranking.rank` orders them, and the total.

    Tier counts first (the score spells them), then the shorter name and the name;
    entities in no tier come last, in name order.
    """
    clauses = [(Occur.Must, _unscored(matched))]
    clauses += [
        (Occur.Should, Query.const_score_query(q, weight))
        for tier, weight in zip(tiers, TIER_WEIGHTS, strict=True)
        for q in tier
    ]
    result = run.searcher.search(Query.boolean_query(clauses), depth, count=True)
    total = _count(result)
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


def _in_order(run: _Run, matched: Query, q: SearchQuery, depth: int) -> tuple[Ranked, int]:
    """The first `depth` matches in a sort order, and the total."""
    addrs, total = run.top(matched, depth, "order_score" if q.sort == "score" else "order_name")
    return [(addr, 0.0) for addr in addrs], total


def _ranked(
    run: _Run, q: SearchQuery, p: ParsedQuery, depth: int, fuzzy: bool
) -> tuple[Ranked, int, Query | None]:
    """The first `depth` hits in order, the total, and the query they match (None: nothing)."""
    if p.empty:
        if p.typed:
            return [], 0, None
        matched = _filtered(None, q)
        return (*_in_order(run, matched, q, depth), matched)
    matched = _filtered(build_query(p, q.doc_type, fuzzy), q)
    if q.sort != "relevance":
        found = _in_order(run, matched, q, depth)
    elif q.doc_type == "entity":
        found = _rank_entities(run, matched, _entity_tiers(p, fuzzy), depth)
    else:
        result = run.searcher.search(matched, depth, count=True)
        found = [(addr, score) for score, addr in result.hits], _count(result)
    return (*found, matched)


def _facets(
    run: _Run, matched: Query | None, doc_type: DocType, total: int
) -> dict[str, tuple[tuple[str, int], ...]]:
    """Counts of each facet value over the matches, by count descending then value."""
    names = FACETS[doc_type]
    if matched is None or not total:
        return {name: () for name in names}
    terms = {"size": FACET_SIZE, "segment_size": FACET_SIZE}
    found = run.searcher.aggregate(matched, {f: {"terms": {"field": f, **terms}} for f in names})
    out = {}
    for name in names:
        counts = ((str(b["key"]), int(b["doc_count"])) for b in found[name]["buckets"])
        out[name] = tuple(sorted((c for c in counts if c[0]), key=lambda c: (-c[1], c[0])))
    return out


def _search(run: _Run, q: SearchQuery, p: ParsedQuery, page: int, size: int) -> SearchResults:
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
        marks = _highlights(q.doc_type, data, marked) if q.with_highlights else {}
        hits.append(Hit(q.doc_type, key, score, data, marks))
    facets = _facets(run, matched, q.doc_type, total) if q.with_facets else {}
    return SearchResults(tuple(hits), total, page, size, facets, suggestion, fuzzy)


def _suggest(run: _Run, p: ParsedQuery, limit: int) -> list[Suggestion]:
    """Entities whose name or alias words start with the typed words, name starts first."""
    starts = _any([build_query(p, "entity"), _name_starts(" ".join(p.terms))])
    matched = _all([starts, _unscored(_term("doc_type", "entity"))])
    ranked, _total = _rank_entities(run, matched, _entity_tiers(p, False), min(limit, 100))
    out = []
    for addr, _score in ranked:
        key, data = run.stored(addr)
        out.append(Suggestion(key, data["name"], data["kind"], data["jurisdiction"]))
    return out


# -- the index on disk or in memory ---------------------------------------------------------


@dataclass(frozen=True)
class _View:
    """An open index, a searcher over the state it was last reloaded at, and answers that
    stay right until the next reload (the seq, listings without search text)."""

    index: tantivy.Index
    searcher: tantivy.Searcher
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False)

    def remember(self, key: Hashable, make: Callable[[], T]) -> T:
        """`make()`, computed once per view (all forgotten past MEMO_SIZE answers)."""
        if key not in self.memo:
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            self.memo[key] = make()
        value: T = self.memo[key]
        return value


def _new_index(path: Path | None) -> tantivy.Index:
    """A new empty index in `path` (None: in memory), reloaded only when told."""
    index = tantivy.Index(SCHEMA, path=None if path is None else str(path), reuse=False)
    index.config_reader(reload_policy="manual")
    return index


def _meta_of(searcher: tantivy.Searcher) -> dict[str, Any] | None:
    """The metadata document's data, or None when there is none."""
    hits = searcher.search(_term("uid", META_UID), 1).hits
    if not hits:
        return None
    return _data_of(searcher.doc(hits[0][1]))


def _seq_of(searcher: tantivy.Searcher) -> int:
    """The seq the metadata document records (0 when there is none)."""
    meta = _meta_of(searcher)
    return int(meta["seq"]) if meta else 0


def _open_checked(path: Path) -> tantivy.Index:
    """Open the index in `path`, reading its metadata and one document to prove it sound."""
    if not tantivy.Index.exists(str(path)):
        raise ValueError("no index there")
    index = tantivy.Index(SCHEMA, path=str(path))
    index.config_reader(reload_policy="manual")
    searcher = index.searcher()
    meta = _meta_of(searcher)
    if meta is not None and meta.get("schema") != SCHEMA_VERSION:
        raise ValueError("built by another schema version")
    searcher.search(Query.all_query(), 1)
    return index


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when a file is replaced or rewritten (None: missing)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _commit(
    target: tantivy.Index | tantivy.IndexWriter,
    deletes: Iterable[str],
    docs: Iterable[tantivy.Document],
    heap: int = WRITE_HEAP,
) -> None:
    """Delete by uid, add, and commit as one; on any error roll back.

    Given an index, a writer is made and released (tantivy's lock with it, merges
    done) before returning; given a writer, it is kept.
    """
    writer = (
        target.writer(heap, 0 if heap > WRITE_HEAP else 1)
        if isinstance(target, tantivy.Index)
        else target
    )
    try:
        for uid in deletes:
            writer.delete_documents_by_term("uid", uid)
        for doc in docs:
            writer.add_document(doc)
        writer.commit()
    except BaseException:
        with suppress(Exception):
            writer.rollback()
        raise
    finally:
        if writer is not target:
            with suppress(Exception):
                writer.wait_merging_threads()


def _fill(index: tantivy.Index, docs: Iterable[Doc], seq: int) -> None:
    """Add every document (the first of a repeated key) and the seq in one commit."""

    def documents() -> Iterator[tantivy.Document]:
        """The documents to add, converted as they are read."""
        for fields in searchable_fields(docs):
            yield _document(fields)
        yield _meta(seq)

    _commit(index, (), documents(), REBUILD_HEAP)


class TantivyBackend:
    """The tantivy engine behind `SearchBackend`; `directory=None` keeps the index in memory."""

    def __init__(self, directory: Path | None) -> None:
        """Open the live index in `directory` (creating an empty one if missing or unreadable)."""
        self.directory = Path(directory) if directory is not None else None
        self._gens = Generations(self.directory) if self.directory is not None else None
        self._lock = threading.RLock()  # guards the reading state below
        # Taken before `_lock`, never after it.
        self._writing = SingleWriter(self._gens.root if self._gens is not None else None)
        self._ram = _new_index(None) if self._gens is None else None
        # In memory one writer is kept (a commit costs a fifth); on disk each write makes
        # its own, so that other processes can take tantivy's writer lock in turn.
        self._ram_writer: tantivy.IndexWriter | None = None
        self._gen: str | None = None
        self._stamps: tuple[Any, Any] = (None, None)  # of CURRENT and of the live meta.json
        self._view: _View | None = None
        self._read(lambda view: None)

    def _open(self, name: str | None) -> tantivy.Index | None:
        """The index of generation `name`, or None (logged) when it cannot be read."""
        if name is None or self._gens is None:
            return None
        try:
            return _open_checked(self._gens.root / name)
        except BaseException as exc:  # a Rust panic on a damaged file is a BaseException
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            reason = repr(exc)
        log.warning("search index %s unreadable (%s); replacing it", name, reason)
        return None

    def _recover(self) -> None:
        """Publish an empty generation in place of a missing or unreadable one."""
        assert self._gens is not None
        with self._writing():
            bad = self._gens.current()
            if bad is not None and self._open(bad) is not None:
                return
            fresh = bad is None and not (self._gens.root / "CURRENT").exists()
            name = self._gens.create()
            _new_index(self._gens.root / name)
            self._gens.publish(name)
            if bad is not None:
                self._gens.remove(keep=name, only=bad)
            level = logging.INFO if fresh else logging.WARNING
            log.log(level, "search index in %s is new and empty; rebuild it", self._gens.root)

    def _current_view(self) -> _View | None:
        """A view of the live index, reopened or reloaded if it changed (call holding `_lock`).

        None when the live generation cannot be read and needs recovery.
        """
        if self._gens is None:
            assert self._ram is not None
            if self._view is None:
                self._reload(self._ram)
            return self._view
        pointer = _stamp(self._gens.root / "CURRENT")
        if self._view is None or pointer != self._stamps[0]:
            name = self._gens.current()
            if self._view is None or name != self._gen:
                meta = _stamp(self._gens.root / str(name) / "meta.json")
                index = self._open(name)
                if index is None:
                    return None
                self._gen, self._view = name, _View(index, index.searcher())
                self._stamps = (pointer, meta)
            self._stamps = (pointer, self._stamps[1])
        meta = _stamp(self._gens.root / str(self._gen) / "meta.json")
        if meta != self._stamps[1]:
            self._reload(self._view.index)
            self._stamps = (pointer, meta)
        return self._view

    def _reload(self, index: tantivy.Index) -> None:
        """Take in the index's latest commit (call holding `_lock`)."""
        index.reload()
        self._view = _View(index, index.searcher())

    def _read(self, fn: Callable[[_View], T]) -> T:
        """Run `fn` on a current view; recover or reopen if the index went away."""
        for attempt in range(3):
            with self._lock:
                view = self._current_view()
            if view is None:
                self._recover()
                continue
            try:
                return fn(view)
            except QueryRefused:
                raise
            except (OSError, ValueError) as exc:
                if attempt == 2:
                    raise
                log.warning("search index changed under a reader (%r); reopening", exc)
                with self._lock:
                    self._drop()
        raise RuntimeError("search index could not be opened")

    def _drop(self) -> None:
        """Forget the open index (call holding `_lock`); in memory, only its searcher."""
        self._view = None
        if self._gens is not None:
            self._gen, self._stamps = None, (None, None)

    # -- the SearchBackend interface -------------------------------------------------------

    def apply(self, batch: ChangeBatch) -> None:
        """Upsert and remove documents and record `batch.seq` in one commit.

        A batch older than the index (seq below the recorded one) is skipped.
        """
        removed = {f"{doc_type}:{key}" for doc_type, key in batch.removals}
        added: dict[str, tantivy.Document] = {}
        for uid, doc in {uid_of(doc): doc for doc in batch.upserts}.items():
            fields = doc_fields(doc)
            if fields is None or uid in removed:
                removed.add(uid)
            else:
                added[uid] = _document(fields)
        with self._writing():
            index = self._read(lambda view: view.index)
            index.reload()
            if batch.seq < _seq_of(index.searcher()):
                log.info("skipping search batch %s: index is newer", batch.seq)
                return
            if self._gens is None and self._ram_writer is None:
                self._ram_writer = index.writer(WRITE_HEAP, 1)
            deletes = [*removed, *added, META_UID]
            _commit(self._ram_writer or index, deletes, [*added.values(), _meta(batch.seq)])
            with self._lock:
                if self._view is not None and self._view.index is index:
                    self._reload(index)

    def last_seq(self) -> int:
        """The change-log seq the live index reflects (0 when empty or rebuilt from nothing)."""
        return self._read(lambda view: view.remember("seq", lambda: _seq_of(view.searcher)))

    def count(self) -> int:
        """Entities and records in the live index."""
        types = _any([_term("doc_type", "entity"), _term("doc_type", "record")])
        return self._read(lambda view: _count(view.searcher.search(types, 1, count=True)))

    def close(self) -> None:
        """Let go of the index files; the backend reopens on next use."""
        with self._lock:
            self._drop()

    def rebuild(self, docs: Iterable[Doc], seq: int) -> None:
        """Index every document into a new generation, then swap it in and delete the old."""
        if self._gens is None:
            index = _new_index(None)
            _fill(index, docs, seq)
            with self._writing(), self._lock:
                self._ram, self._view, self._ram_writer = index, None, None
            return
        root = self._gens.root
        with file_lock(root / ".rebuild.lock", timeout=30 * 60):
            name = self._gens.create()
            try:
                _fill(_new_index(root / name), docs, seq)
            except BaseException:
                shutil.rmtree(root / name, ignore_errors=True)
                raise
            with self._writing():
                self._gens.publish(name)
            with self._lock:
                self._current_view()
            with self._writing():
                self._gens.remove(keep=self._gens.current() or name)

    def query(self, q: SearchQuery) -> SearchResults:
        """Run a search: text, filters, facets, sort and one page, with highlights."""
        parsed = parse_query(q.text)
        page, per_page = paging(q)
        filters = tuple((f, tuple(v)) for f, v in checked_filters(q))
        listing = ("list", q.doc_type, q.sort, filters, page, per_page, q.with_facets)

        def run(view: _View) -> SearchResults:
            """The search, or a listing remembered until the index changes."""
            search = functools.partial(_search, _Run(view.searcher, q.doc_type), q, parsed)
            if parsed.empty and not parsed.typed:
                return view.remember(listing, lambda: search(page, per_page))
            return search(page, per_page)

        return self._read(run)

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Entities whose name or alias words start with the typed words, name starts first."""
        try:
            parsed = parse_query(prefix)
        except QueryRefused:
            return []
        if not parsed.terms or limit < 1:
            return []
        terms = ParsedQuery(terms=parsed.terms)
        return self._read(lambda view: _suggest(_Run(view.searcher, "entity"), terms, limit))


def open_backend(directory: Path | None) -> TantivyBackend:
    """The tantivy backend for `directory` (None: in memory)."""
    return TantivyBackend(directory)
