"""The whoosh engine: one index holding entities and records, swapped whole on rebuild.

Schema: `uid` ("entity:<slug>", "record:<ref>") is the unique key and `doc_type`
tells the two apart; `data` stores what a result list shows. Names (`name`,
`aliases`, `entity_name`, `agency_name`) are folded words with legal forms in
one spelling and are not stemmed; record text (`title`, `summary`, `statute`)
is stemmed; `name_ngram` holds edge n-grams (2-15) of every name and alias
word for prefixes; `ident` holds registration ids and refs as letters and
digits. Facet fields are columns; `jurisdictions` holds a code and its parents.

Matching is done with document sets (per term, cached per segment); entities
are ranked by `search.ranking.rank`, records by whoosh's BM25F. A search
that finds nothing is retried with near spellings ("did you mean").

On disk the directory holds `CURRENT` (the name of the live `gen-*` folder),
the generations, `.write.lock` and `.rebuild.lock`. The change-log seq is a
metadata document committed with the documents it describes. A rebuild fills
a new generation and points `CURRENT` at it in one rename; readers notice and
reopen. One searcher per backend serves one query at a time (a lock), so a
threaded server queues searches rather than sharing whoosh objects.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import html
import itertools
import logging
import multiprocessing
import operator
import os
import pickle
import queue
import secrets
import shutil
import threading
import warnings
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar, cast

from whoosh import columns, formats, highlight, query  # type: ignore[import-untyped]
from whoosh.analysis import (  # type: ignore[import-untyped]
    Filter,
    IDTokenizer,
    NgramFilter,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema  # type: ignore[import-untyped]
from whoosh.filedb.filestore import FileStorage, RamStorage  # type: ignore[import-untyped]
from whoosh.util.numeric import byte_to_length, length_to_byte  # type: ignore[import-untyped]
from whoosh.writing import SegmentWriter  # type: ignore[import-untyped]

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
from search.documents import SEVERITY_RANK, doc_fields, searchable_fields, uid_of, vocabulary
from search.names import fold, name_spans
from search.query import (
    FACETS,
    ParsedQuery,
    checked_filters,
    corrected,
    fuzz_distance,
    paging,
    parse_query,
    transpositions,
)
from search.ranking import facet_counts, rank, sorted_counts, tiered
from search.store import LOCK_TIMEOUT, Generations, SingleWriter, file_lock

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 1
META_UID = "meta:seq"
MAX_CACHED_TERMS = 4096
# Records matching more than this are ranked by where the words are (`_record_tiers`), newest
# first, instead of by BM25: whoosh scores every match in Python (0.8 s for 400,000).
BM25_MAX_RECORDS = 5_000
SORT_COLUMNS = ("sort_name", "sort_num", "severity")
# A full rebuild: memory for postings per writing process before they spill to sorted runs
# on disk, worker processes (from this many documents; each writes one segment), and the
# documents handed to a worker at a time (through a file in the new generation's folder).
BULK_LIMIT_MB = 128
PARALLEL_MIN_DOCS = 50_000
MAX_WORKERS = 4
BATCH_DOCS = 2_000
# Fields whose values are mostly unique are analysed afresh; the others (titles, agency
# and entity names on records, statutes, facets) once per distinct value.
UNCACHED_FIELDS = frozenset({"uid", "key", "ident", "summary", "name", "aliases", "name_ngram"})
MAX_CACHED_VALUES = 50_000


class FoldFilter(Filter):  # type: ignore[misc]
    """Folds each token with `search.names.fold` (case, accents, fullwidth, ß)."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        """Yield the tokens with their text folded."""
        for token in tokens:
            token.text = fold(token.text)
            yield token


class NameTokenizer(Tokenizer):  # type: ignore[misc]
    """Folded words with legal forms in one spelling (`search.names.name_spans`)."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Yield one reused whoosh Token per name token, with positions and offsets."""
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        spans = name_spans(value) if tokenize else [(fold(value), 0, len(value))]
        for pos, (text, start, end) in enumerate(spans):
            token.text, token.boost, token.stopped = text, 1.0, False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


class MarkFormatter(highlight.Formatter):  # type: ignore[misc]
    """Highlights as `<mark>` around matched words, every other character HTML-escaped."""

    between = " … "

    def _text(self, text: str) -> str:
        """Escape text between matches."""
        return html.escape(text)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        """Escape a matched word and mark it."""
        return f"<mark>{html.escape(highlight.get_text(text, token, replace))}</mark>"


def _existence(field: Any) -> Any:
    """A field kept as document sets only (no frequencies): entity relevance is computed by
    `search.ranking.rank`. It stays "scorable": whoosh 2.7.5 stats a file per posting
    at commit for fields without a length column."""
    field.format = formats.Existence()
    return field


NAMES = NameTokenizer()
# English snowball stemmer: whoosh's default Porter stemmer leaves "running" as "runn".
TEXT_ANALYZER = NameTokenizer() | StopFilter() | StemFilter(lang="en")
KEY_ANALYZER = IDTokenizer() | FoldFilter()
SCHEMA = Schema(
    uid=ID(unique=True),
    doc_type=ID,
    key=ID(stored=True),
    data=STORED,
    name=TEXT(NAMES),
    aliases=TEXT(NAMES),
    entity_name=TEXT(NAMES),
    agency_name=TEXT(NAMES),
    name_ngram=_existence(TEXT(NAMES | NgramFilter(2, 15, at="start"), phrase=False)),
    ident=ID(analyzer=KEY_ANALYZER),
    title=TEXT(TEXT_ANALYZER),
    summary=TEXT(TEXT_ANALYZER),
    statute=TEXT(TEXT_ANALYZER),
    entity_key=ID,
    jurisdictions=KEYWORD,
    **{f: ID(sortable=True) for f in sorted(set(ENTITY_FACETS) | set(RECORD_FACETS))},
    sort_name=COLUMN(columns.VarBytesColumn()),
    sort_num=COLUMN(columns.NumericColumn("d", default=-1.0)),
)


def _prepared(fields: dict[str, Any]) -> dict[str, Any]:
    """Field values as whoosh takes them: no empty strings, sort name as bytes."""
    out = {k: v for k, v in fields.items() if v != ""}
    out["sort_name"] = fields.get("sort_name", "").encode()
    return out


def _meta(seq: int) -> dict[str, Any]:
    """The metadata document: the change-log seq and the schema version."""
    return {"uid": META_UID, "doc_type": "meta", "data": {"seq": seq, "schema": SCHEMA_VERSION}}


def _remember(store: dict[Any, T], key: Any, make: Callable[[], T], cap: int | None) -> T:
    """`store[key]`, made if missing; past `cap` entries the oldest quarter is dropped."""
    if key not in store:
        if cap is not None and len(store) >= cap:
            for old in list(store)[: cap // 4]:
                del store[old]
        store[key] = make()
    return store[key]


class _SegmentCache:
    """What is read from a segment once: term doc sets, columns and sort orders.

    Segments never change except that documents in them get deleted (and never
    undeleted), so a set read once stays right after subtracting today's
    deletions. A write adds a small segment; only that one is read again.
    """

    def __init__(self) -> None:
        """Start empty."""
        self.terms: dict[tuple[Any, ...], set[int]] = {}
        self.data: dict[tuple[Any, ...], Any] = {}

    def get(
        self, store: dict[tuple[Any, ...], T], key: tuple[Any, ...], make: Callable[[], T]
    ) -> T:
        """A cached value (term sets are kept for the most recent terms only)."""
        cap = MAX_CACHED_TERMS if store is self.terms else None
        return _remember(store, key, make, cap)

    def keep_only(self, segment_ids: set[Any]) -> None:
        """Forget segments that have been merged away."""
        for store in (self.terms, self.data):
            for key in [k for k in store if k[0] not in segment_ids]:
                del store[key]


class _View:
    """One searcher and what is cached for it: doc sets, columns, sort orders."""

    def __init__(self, ix: Any, segments: _SegmentCache) -> None:
        """Open a searcher over the index's segments as they are now."""
        self.ix = ix
        self.generation = ix.latest_generation()
        self.searcher = ix.searcher()
        self._cache = segments
        self._leaves = [
            (sub.reader().segment().segment_id(), sub, offset)
            for sub, offset in self.searcher.leaf_searchers()
            if sub.reader().segment() is not None
        ]
        segments.keep_only({segid for segid, _sub, _offset in self._leaves})
        self.deleted = {
            offset + d for _id, sub, offset in self._leaves for d in sub.reader().deleted_docs_set
        }
        self._memo: dict[Hashable, Any] = {}
        self._recent: dict[Hashable, Any] = {}

    def stale(self) -> bool:
        """True once a newer generation of the index has been committed."""
        return bool(self.ix.latest_generation() != self.generation)

    def memo(self, key: Hashable, make: Callable[[], T], bounded: bool = False) -> T:
        """A value computed once per view; `bounded` ones (document sets for what was
        typed or filtered) are kept for the most recent keys only."""
        store = self._recent if bounded else self._memo
        return cast(T, _remember(store, key, make, MAX_CACHED_TERMS if bounded else None))

    def docs(self, q: Any) -> set[int]:
        """Document numbers matching a query."""
        return set(self.searcher.docs_for_query(q))

    def _global(self, parts: Iterable[tuple[Iterable[int], int]]) -> set[int]:
        """Per-segment document numbers as one set of live top-level numbers."""
        out: set[int] = set()
        for local, offset in parts:
            out.update(local if offset == 0 else (d + offset for d in local))
        return out - self.deleted if self.deleted else out

    def _segment_docs(self, segid: Any, sub: Any, field: str, value: str) -> set[int]:
        """One segment's documents holding a term (local numbers), read once."""
        term = query.Term(field, value)
        return self._cache.get(
            self._cache.terms, (segid, field, value), lambda: set(term.docs(sub))
        )

    def term_docs(self, field: str, value: str) -> set[int]:
        """Live documents holding one term, read per segment and cached."""

        def make() -> set[int]:
            """Combine the segments' sets."""
            return self._global(
                (self._segment_docs(segid, sub, field, value), offset)
                for segid, sub, offset in self._leaves
            )

        return self.memo(("term", field, value), make, bounded=True)

    def any_of(self, field: str, values: tuple[str, ...]) -> set[int]:
        """Documents with any of the values in a field, cached."""
        return self.memo(
            ("any", field, values),
            lambda: set().union(*(self.term_docs(field, v) for v in values)),
            bounded=True,
        )

    def match(self, q: Any) -> set[int]:
        """Documents matching a query, from cached term sets where the query allows."""
        if isinstance(q, query.Term):
            return self.term_docs(q.fieldname, q.text)
        if isinstance(q, query.FuzzyTerm):
            key = ("fuzzy", q.fieldname, q.text, q.maxdist)
            return self.memo(key, lambda: self.docs(q), bounded=True)
        if isinstance(q, query.AndMaybe):
            return self.match(q.a)
        if isinstance(q, query.And | query.Or) and q.subqueries:
            sets = sorted((self.match(sub) for sub in q.subqueries), key=len)
            if isinstance(q, query.And):
                return sets[0].intersection(*sets[1:])
            return sets[0].union(*sets[1:])
        return self.docs(q)

    def _segment_column(self, segid: Any, sub: Any, field: str) -> list[Any]:
        """One segment's column values by local document number (equal values shared)."""

        def read() -> list[Any]:
            """Read the column once."""
            shared: dict[Any, Any] = {}
            return [shared.setdefault(v, v) for v in sub.reader().column_reader(field)]

        return self._cache.get(self._cache.data, (segid, "column", field), read)

    def column(self, field: str) -> list[Any]:
        """A field's column value for every top-level document number."""

        def make() -> list[Any]:
            """Concatenate the segments' columns."""
            out: list[Any] = []
            for segid, sub, _offset in self._leaves:
                out.extend(self._segment_column(segid, sub, field))
            return out

        return self.memo(("column", field), make)

    def _segment_order(self, segid: Any, sub: Any, doc_type: DocType, sort: str) -> list[int]:
        """One segment's documents of a type, sorted (local numbers)."""

        def make() -> list[int]:
            """Sort once."""
            docs = self._segment_docs(segid, sub, "doc_type", doc_type)
            cols = {f: self._segment_column(segid, sub, f) for f in SORT_COLUMNS}
            return sorted(docs, key=_sort_key(cols, doc_type, sort))

        return self._cache.get(self._cache.data, (segid, "order", doc_type, sort), make)

    def _segment_names(self, segid: Any, sub: Any) -> list[bytes]:
        """One segment's entity name keys in name order (for prefix look-ups)."""
        order = self._segment_order(segid, sub, "entity", "relevance")
        names = self._segment_column(segid, sub, "sort_name")
        return self._cache.get(
            self._cache.data, (segid, "names"), lambda: [names[d] for d in order]
        )

    def order(self, doc_type: DocType, sort: str) -> Iterator[int]:
        """Every document of a type in a sort order (deleted ones included), merged lazily."""

        def runs() -> list[list[int]]:
            """Each segment's order in top-level numbers."""
            return [
                [d + offset for d in self._segment_order(segid, sub, doc_type, sort)]
                if offset
                else self._segment_order(segid, sub, doc_type, sort)
                for segid, sub, offset in self._leaves
            ]

        cols = {f: self.column(f) for f in SORT_COLUMNS}
        key = _sort_key(cols, doc_type, sort)
        return heapq.merge(*self.memo(("runs", doc_type, sort), runs), key=key)

    def name_starts(self, key: str, whole: bool = False) -> set[int]:
        """Live entities whose name key starts with `key` (or, if `whole`, equals it)."""
        low = key.encode()
        high = low + (b"" if whole else b"\xff")
        parts = []
        for segid, sub, offset in self._leaves:
            names = self._segment_names(segid, sub)
            order = self._segment_order(segid, sub, "entity", "relevance")
            found = order[bisect.bisect_left(names, low) : bisect.bisect_right(names, high)]
            parts.append((found, offset))
        return self._global(parts)

    def top(self, docs: set[int], doc_type: DocType, sort: str, count: int) -> list[int]:
        """The first `count` of `docs` in a sort order (scanning the merged order if large)."""
        if len(docs) <= 2000:
            cols = {f: self.column(f) for f in SORT_COLUMNS}
            return sorted(docs, key=_sort_key(cols, doc_type, sort))[:count]
        return list(itertools.islice((d for d in self.order(doc_type, sort) if d in docs), count))


def _sort_key(cols: dict[str, list[Any]], doc_type: DocType, sort: str) -> Callable[[int], Any]:
    """The sort key of a document number. Entities: by name, or by score (highest first,
    none last). Records: by decision date (newest first), or by severity (most severe)."""
    name, num, sev = cols["sort_name"], cols["sort_num"], cols["severity"]
    if doc_type == "entity" and sort == "score":
        return lambda d: (-num[d], name[d], d)
    if doc_type == "entity":
        return lambda d: (name[d], d)
    if sort == "score":
        return lambda d: (-SEVERITY_RANK.get(sev[d], 0), -num[d], d)
    return lambda d: (-num[d], name[d], d)


def _stems(word: str) -> list[str]:
    """A query word as the record text fields index it (stemmed; empty for a stop word)."""
    return [t.text for t in TEXT_ANALYZER(word)]


def _fuzzy(field: str, word: str, boost: float = 1.0) -> list[Any]:
    """Near spellings of a word long enough to have typos (none under 4 letters).

    whoosh counts two swapped letters as two edits, so for words allowed one
    edit the swaps are added as plain terms.
    """
    dist = fuzz_distance(word)
    if not dist:
        return []
    fuzzy = query.FuzzyTerm(field, word, boost, maxdist=dist, prefixlength=1)
    swaps = [query.Term(field, w, boost) for w in transpositions(word)] if dist == 1 else []
    return [query.Or([fuzzy, *swaps]) if swaps else fuzzy]


def _entity_word(word: str, fuzzy: bool) -> Any:
    """One typed word an entity must have: a name or alias word starting with it (or near it).

    The edge n-grams hold every word of the name and aliases, so one term
    covers whole words and prefixes; whole words only add relevance (`_entity_tiers`).
    """
    if len(word) >= 2:
        subs = [query.Term("name_ngram", word[:15])]
    else:
        subs = [query.Term("name", word, boost=3.0), query.Term("aliases", word, boost=1.5)]
    if fuzzy:
        subs += _fuzzy("name", word, 1.0) + _fuzzy("aliases", word, 0.5)
    return subs[0] if len(subs) == 1 else query.Or(subs)


def _record_word(word: str, fuzzy: bool) -> Any:
    """One typed word against a record: stemmed text fields and the names it carries."""
    subs = [query.Term("entity_name", word, boost=2.0), query.Term("agency_name", word)]
    for stem in _stems(word):
        subs += [query.Term("title", stem, boost=3.0), query.Term("summary", stem)]
        subs.append(query.Term("statute", stem))
        if fuzzy:
            subs += _fuzzy("title", stem, 1.5) + _fuzzy("summary", stem, 0.5)
    if fuzzy:
        subs += _fuzzy("entity_name", word, 1.0)
    return query.Or(subs)


def _phrase(doc_type: DocType, words: tuple[str, ...]) -> Any:
    """A quoted phrase: consecutive words in a name, or in record text once stemmed."""
    if doc_type == "entity":
        fields = [("name", words, 3.0), ("aliases", words, 1.5)]
    else:
        stems = tuple(_stems(" ".join(words)))
        fields = [("entity_name", words, 2.0)]
        fields += [(f, stems, b) for f, b in (("title", 3.0), ("summary", 1.0), ("statute", 1.0))]
    return query.Or([query.Phrase(f, list(w), boost=b) for f, w, b in fields if len(w) > 1])


def build_query(p: ParsedQuery, doc_type: DocType, fuzzy: bool = False) -> Any:
    """The whoosh query for parsed user text; `fuzzy` also accepts near spellings."""
    word = _entity_word if doc_type == "entity" else _record_word
    required = [w for w in p.required() if doc_type == "entity" or _stems(w)] or list(p.terms)
    parts = [word(w, fuzzy) for w in required] + [_phrase(doc_type, ph) for ph in p.phrases]
    text_q = query.And(parts) if parts else query.NullQuery
    optional = [word(w, False) for w in p.terms if w not in required]
    if parts and optional and doc_type == "record":
        text_q = query.AndMaybe(text_q, query.Or(optional))
    if p.ident:
        return query.Or([text_q, query.Term("ident", p.ident, boost=10.0)])
    return text_q


def _entity_tiers(view: _View, p: ParsedQuery, fuzzy: bool) -> list[list[set[int]]]:
    """Entity relevance tiers, first deciding first: registration id, whole name, name
    start, words whole in the name (near them, when fuzzy), then words in an alias."""
    key = " ".join(p.terms)
    words = p.words()
    if fuzzy:
        name_words = [view.match(t) for w in words for t in _fuzzy("name", w)]
    else:
        name_words = [view.term_docs("name", w) for w in words]
    return [
        [view.term_docs("ident", p.ident)] if p.ident else [],
        [view.name_starts(key, whole=True)] if key else [],
        [view.name_starts(key)] if key else [],
        name_words,
        [view.term_docs("aliases", w) for w in words],
    ]


def _record_tiers(view: _View, p: ParsedQuery, fuzzy: bool) -> list[list[set[int]]]:
    """Record relevance tiers for a large match set, first deciding first: typed words in
    the title, in the entity's name, then in the summary, statute or agency (near them,
    when fuzzy)."""
    words = p.words()

    def docs(field: str, word: str) -> set[int]:
        """Documents with the word (or a near spelling) in a field."""
        if fuzzy:
            found = [view.match(t) for t in _fuzzy(field, word)]
            return set().union(view.term_docs(field, word), *found)
        return view.term_docs(field, word)

    def text(field: str, word: str) -> set[int]:
        """Documents with the word, stemmed, in a text field."""
        return set().union(*(docs(field, stem) for stem in _stems(word)))

    return [
        [text("title", w) for w in words],
        [docs("entity_name", w) for w in words],
        [
            set().union(text("summary", w), text("statute", w), docs("agency_name", w))
            for w in words
        ],
    ]


def _marked(text: str, terms: set[str], analyzer: Any, fragmenter: Any) -> str:
    """`text` as escaped HTML with the words in `terms` marked, or "" if none is there."""
    formatter = MarkFormatter()
    return str(highlight.highlight(text, terms, analyzer, fragmenter, formatter, top=2))


def _highlights(doc_type: DocType, data: dict[str, Any], words: tuple[str, ...]) -> dict[str, str]:
    """Marked name (entity) or title and summary (record) of one hit."""
    if doc_type == "entity":
        name = data["name"]
        terms = {t for t, _s, _e in name_spans(name) if any(t.startswith(w) for w in words)}
        whole = highlight.WholeFragmenter()
        return {"name": _marked(name, terms, NAMES, whole) or html.escape(name)}
    stems = {s for w in words for s in _stems(w)}
    title = _marked(data["title"], stems, TEXT_ANALYZER, highlight.WholeFragmenter())
    out = {"title": title or html.escape(data["title"])}
    summary = data.get("summary") or ""
    context = highlight.ContextFragmenter(maxchars=240, surround=60)
    snippet = _marked(summary, stems, TEXT_ANALYZER, context)
    if snippet or summary:
        out["summary"] = snippet or html.escape(summary[:240]) + ("…" if len(summary) > 240 else "")
    return out


def _ram_index() -> Any:
    """A new in-memory index. Its name is unique because whoosh writers spill to
    `<tempdir>/<indexname>.tmp` and delete that folder on commit: with the default
    name, in-memory indexes in other threads or processes would delete each other's."""
    return RamStorage().create_index(SCHEMA, indexname=f"ram-{secrets.token_hex(8)}")


def _open_checked(path: Path) -> Any:
    """Open the index in `path`, reading its metadata and one document to prove it sound."""
    ix = FileStorage(str(path)).open_index()
    with ix.searcher() as searcher:
        meta = searcher.document(uid=META_UID)
        if meta is not None and meta["data"].get("schema") != SCHEMA_VERSION:
            raise ValueError("built by another schema version")
        searcher.search(query.Every(), limit=1)
    return ix


def _seq_of(searcher: Any) -> int:
    """The seq the metadata document records (0 when there is none)."""
    meta = searcher.document(uid=META_UID)
    return int(meta["data"]["seq"]) if meta else 0


class WhooshBackend:
    """The whoosh engine behind `SearchBackend`; `directory=None` keeps the index in memory."""

    def __init__(self, directory: Path | None) -> None:
        """Open the live index in `directory` (creating an empty one if missing or unreadable)."""
        self.directory = Path(directory) if directory is not None else None
        self._gens = Generations(self.directory) if self.directory is not None else None
        self._lock = threading.RLock()  # guards the reading state below
        # Taken before `_lock`, never after it.
        self._writing = SingleWriter(self._gens.root if self._gens is not None else None)
        self._segments = _SegmentCache()
        self._ram = _ram_index() if self._gens is None else None
        self._gen: str | None = None
        self._view: _View | None = None
        self._writer_ix: tuple[str, Any] | None = None
        self._read(lambda view: None)

    # -- locks and generations -------------------------------------------------------------

    def _try_open(self, name: str | None) -> Any:
        """The index of generation `name`, or None (logged) when it cannot be read."""
        if name is None or self._gens is None:
            return None
        with warnings.catch_warnings():
            # whoosh leaves the file of an unreadable TOC open until its error is dropped.
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                return _open_checked(self._gens.root / name)
            except Exception as exc:  # any unreadable index is rebuilt, never fatal
                reason = repr(exc)  # not `exc`: a log record would keep the file open
        log.warning("search index %s unreadable (%s); replacing it", name, reason)
        return None

    def _recover(self) -> None:
        """Publish an empty generation in place of a missing or unreadable one."""
        assert self._gens is not None
        with self._writing():
            bad = self._gens.current()
            if bad is not None and self._try_open(bad) is not None:
                return
            fresh = bad is None and not (self._gens.root / "CURRENT").exists()
            name = self._gens.create()
            FileStorage(str(self._gens.root / name)).create_index(SCHEMA)
            self._gens.publish(name)
            if bad is not None:
                self._gens.remove(keep=name, only=bad)
            level = logging.INFO if fresh else logging.WARNING
            log.log(level, "search index in %s is new and empty; rebuild it", self._gens.root)

    def _writer_index(self) -> Any:
        """The live index for writing (call while `_writing`)."""
        if self._gens is None:
            return self._ram
        name = self._gens.current()
        if self._writer_ix is None or self._writer_ix[0] != name:
            ix = self._try_open(name)
            if ix is None:
                self._recover()
                name = self._gens.current()
                ix = self._try_open(name)
            self._writer_ix = (name or "", ix)
        return self._writer_ix[1]

    # -- reading ---------------------------------------------------------------------------

    def _current_view(self) -> _View | None:
        """A view of the live index, reopened if it changed; None if it needs recovery.

        A changed index gets a new searcher, not `Searcher.refresh()`: in
        whoosh-reloaded 2.7.5 a refreshed searcher keeps the replaced segments
        and returns deleted and updated documents twice.
        """
        ix = self._ram
        if self._gens is not None:
            name = self._gens.current()
            if self._view is None or name != self._gen:
                ix = self._try_open(name)
                if ix is None:
                    return None
                self._drop_view()
                self._gen = name
            else:
                ix = self._view.ix
        if self._view is None or self._view.ix is not ix or self._view.stale():
            self._drop_view()
            self._view = _View(ix, self._segments)
        return self._view

    def _drop_view(self) -> None:
        """Close the cached searcher."""
        if self._view is not None:
            with suppress(Exception):
                self._view.searcher.close()
        self._view = None

    def _read(self, fn: Callable[[_View], T]) -> T:
        """Run `fn` on a current view; recover or reopen once if the index went away."""
        for attempt in range(3):
            with self._lock:
                view = self._current_view()
                if view is not None:
                    try:
                        return fn(view)
                    except OSError as exc:
                        if attempt == 2:
                            raise
                        log.warning("search index changed under a reader (%r); reopening", exc)
                        self._drop_view()
                        continue
            self._recover()
        raise RuntimeError("search index could not be opened")

    # -- the SearchBackend interface -------------------------------------------------------

    def apply(self, batch: ChangeBatch) -> None:
        """Upsert and remove documents and record `batch.seq` in one commit.

        A batch older than the index (seq below the recorded one) is skipped.
        """
        with self._writing():
            ix = self._writer_index()
            with ix.searcher() as searcher:
                if batch.seq < _seq_of(searcher):
                    log.info("skipping search batch %s: index is newer", batch.seq)
                    return
            removed = {f"{doc_type}:{key}" for doc_type, key in batch.removals}
            upserts = {uid_of(doc): doc for doc in batch.upserts}
            self._writer_ix = None  # reopened after a failure; kept again on success
            with _committed(ix.writer(timeout=LOCK_TIMEOUT)) as writer:
                for uid, doc in upserts.items():
                    fields = doc_fields(doc)
                    if fields is None or uid in removed:
                        removed.add(uid)
                    else:
                        writer.update_document(**_prepared(fields))
                for uid in removed:
                    writer.delete_by_term("uid", uid)
                writer.update_document(**_meta(batch.seq))
            if self._gens is not None:
                self._writer_ix = (self._gens.current() or "", ix)

    def last_seq(self) -> int:
        """The change-log seq the live index reflects (0 when empty or rebuilt from nothing)."""
        return self._read(lambda view: view.memo(("seq",), lambda: _seq_of(view.searcher)))

    def count(self) -> int:
        """Entities and records in the live index."""
        return self._read(
            lambda view: (
                len(view.term_docs("doc_type", "entity"))
                + len(view.term_docs("doc_type", "record"))
            )
        )

    def close(self) -> None:
        """Close the searcher; the backend reopens on next use."""
        with self._lock:
            self._drop_view()

    def rebuild(self, docs: Iterable[Doc], seq: int) -> None:
        """Index every document into a new generation, then swap it in and delete the old."""
        if self._gens is None:
            ix = _ram_index()
            _fill(ix, docs, seq)
            with self._writing():
                self._ram = ix
            return
        with file_lock(self._gens.root / ".rebuild.lock", timeout=30 * 60):
            name = self._gens.create()
            try:
                ix = FileStorage(str(self._gens.root / name)).create_index(SCHEMA)
                _fill(ix, docs, seq, rebuild_workers(operator.length_hint(docs)))
            except BaseException:
                shutil.rmtree(self._gens.root / name, ignore_errors=True)
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
        checked_filters(q)
        return self._read(lambda view: _search(view, q, parsed, page, per_page))

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Entities whose name or alias words start with the typed words, name starts first."""
        try:
            parsed = parse_query(prefix)
        except QueryRefused:
            return []
        if not parsed.terms or limit < 1:
            return []
        parsed = ParsedQuery(terms=parsed.terms)

        def run(view: _View) -> list[Suggestion]:
            """The best entities as suggestions."""
            starts = view.name_starts(" ".join(parsed.terms))
            matched = view.match(build_query(parsed, "entity")) | starts
            matched &= view.term_docs("doc_type", "entity")
            out = []
            for docnum, _score in _rank_entities(view, parsed, matched, min(limit, 100), False):
                stored = view.searcher.stored_fields(docnum)
                data = stored["data"]
                out.append(
                    Suggestion(stored["key"], data["name"], data["kind"], data["jurisdiction"])
                )
            return out

        return self._read(run)


def open_backend(directory: Path | None) -> WhooshBackend:
    """The whoosh backend for `directory` (None: in memory)."""
    return WhooshBackend(directory)


@contextmanager
def _committed(writer: Any) -> Iterator[Any]:
    """Yield a writer, then commit; on any error cancel it, so the last commit stays live."""
    try:
        yield writer
        writer.commit()
    except BaseException:
        with suppress(Exception):
            writer.cancel()
        raise


class _BulkWriter(SegmentWriter):  # type: ignore[misc]
    """A writer filling a new, empty index: it writes what `SegmentWriter` writes, faster.

    A repeated field value is analysed once. The field lengths each posting needs
    at commit are kept in memory: whoosh 2.7.5 reads them back from the length
    column per posting, and stats a file per posting of a field without one.
    """

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        """Open a writer on `ix`, which must hold no segments yet."""
        super().__init__(ix, **kwargs)
        if self.segments:
            self.cancel()
            raise ValueError("a bulk writer only fills a new index")
        self._analysed: dict[tuple[str, Any], tuple[int, tuple[tuple[Any, ...], ...]]] = {}
        self._lengths: dict[str, array[int]] = {}

    def _analyse(
        self, name: str, field: Any, value: Any
    ) -> tuple[int, tuple[tuple[Any, ...], ...]]:
        """The field's length and postings (term, frequency, weight, value) for a value."""
        cached = name not in UNCACHED_FIELDS and isinstance(value, str)
        found = self._analysed.get((name, value)) if cached else None
        if found is None:
            items = tuple((t, f, w * 1.0, v) for t, f, w, v in field.index(value))
            found = (sum(item[1] for item in items) if field.scorable else 0, items)
            if cached:
                if len(self._analysed) >= MAX_CACHED_VALUES:
                    self._analysed.clear()
                self._analysed[(name, value)] = found
        return found

    def add_document(self, **fields: Any) -> None:
        """Add one document (`SegmentWriter.add_document` without boosts, vectors or spelling)."""
        self._check_state()
        perdoc, docnum, add_posting = self.perdocwriter, self.docnum, self.pool.add
        perdoc.start_doc(docnum)
        try:
            for name in sorted(fields):
                value = fields[name]
                if value is None:
                    continue
                field = self.schema[name]
                length = 0
                if field.indexed:
                    length, items = self._analyse(name, field, value)
                    for tbytes, _freq, weight, vbytes in items:
                        add_posting((name, tbytes, docnum, weight, vbytes))
                    if length:
                        self._keep_length(name, docnum, length)
                perdoc.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _keep_length(self, name: str, docnum: int, length: int) -> None:
        """Remember a field's length in a document as the length column will read it."""
        table = self._lengths.setdefault(name, array("I"))
        if len(table) < docnum:
            table.extend(itertools.repeat(0, docnum - len(table)))
        table.append(byte_to_length(length_to_byte(length)))

    def _flush_segment(self) -> None:
        """Write the postings, with the field lengths from memory."""
        self.perdocwriter.close()
        lengths = _Lengths(self._lengths) if self.codec.length_stats else None
        self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()


class _Lengths:
    """Field lengths by document, as `add_postings` asks for them (0: none)."""

    def __init__(self, tables: dict[str, array[int]]) -> None:
        """Keep the tables."""
        self._tables = tables

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        """A field's length in a document."""
        table = self._tables.get(fieldname)
        return table[docnum] if table is not None and docnum < len(table) else default


def _fill_in_workers(
    ix: Any, fields: Iterator[dict[str, Any]], expected: int, workers: int
) -> None:
    """Index the documents' fields in worker processes, one segment of consecutive ones each.

    This process reads the documents and hands them over in batch files; its own
    writer holds the index lock and commits the workers' segments in order.
    """
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    jobs = [context.Queue() for _ in range(workers)]
    writer = _BulkWriter(ix, limitmb=1)
    folder = Path(writer.temp_storage().folder)
    procs = [
        context.Process(
            target=_segment_worker,
            args=(ix.storage.folder, ix.indexname, part, jobs[part], results),
            daemon=True,
        )
        for part in range(workers)
    ]
    try:
        for proc in procs:
            proc.start()
        per_worker, sent = -(-expected // workers), 0
        for batch in _batches(fields, BATCH_DOCS):
            path = folder / f"batch-{sent:012d}.pickle"
            with open(path, "wb") as handle:
                pickle.dump(batch, handle, pickle.HIGHEST_PROTOCOL)
            jobs[min(sent // per_worker, workers - 1)].put(str(path))
            sent += len(batch)
        for job in jobs:
            job.put(None)
        segments = _segments_of(results, procs)
        writer._close_segment()
        writer._commit_toc(segments)
        writer._finish()
    except BaseException:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        with suppress(Exception):
            writer.cancel()
        raise
    finally:
        for proc in procs:
            proc.join(10)


def _batches(items: Iterator[T], size: int) -> Iterator[list[T]]:
    """Lists of up to `size` consecutive items."""
    while batch := list(itertools.islice(items, size)):
        yield batch


def _segments_of(results: Any, procs: list[Any]) -> list[Any]:
    """The workers' segments in their order (raising if a worker failed or died)."""
    found: dict[int, Any] = {}
    while len(found) < len(procs):
        try:
            part, segment, error = results.get(timeout=1.0)
        except queue.Empty:
            if any(proc.exitcode not in (None, 0) for proc in procs):
                raise RuntimeError("a search index worker process died") from None
            continue
        if error is not None:
            raise RuntimeError(f"a search index worker failed: {error}")
        found[part] = segment
    return [found[part] for part in sorted(found) if found[part] is not None]


def _segment_worker(folder: str, indexname: str, part: int, jobs: Any, results: Any) -> None:
    """Index batch files from `jobs` into one new segment and report it (a worker process)."""
    try:
        ix = FileStorage(folder).open_index(indexname)
        writer = _BulkWriter(ix, _lk=False, limitmb=BULK_LIMIT_MB)
        for path in iter(jobs.get, None):
            with open(path, "rb") as handle:
                # Written by the rebuilding process into the new generation's own folder.
                batch = pickle.load(handle)  # noqa: S301
            os.remove(path)
            for values in batch:
                writer.add_document(**values)
        if writer._added:
            results.put((part, writer._finalize_segment(), None))
        else:
            writer._close_segment()
            results.put((part, None, None))
    except BaseException as exc:
        results.put((part, None, repr(exc)))
        raise


def _fill(ix: Any, docs: Iterable[Doc], seq: int, workers: int = 1) -> None:
    """Add every document and the seq to a new index in one bounded-memory commit.

    With `workers` > 1 (on disk) the documents are split into that many runs of
    consecutive documents, each indexed into its own segment by a worker process,
    so the index keeps the documents' order.
    """
    fields = _index_fields(docs, seq)
    if workers > 1:
        _fill_in_workers(ix, fields, operator.length_hint(docs) + 1, workers)
        return
    with _committed(_BulkWriter(ix, limitmb=BULK_LIMIT_MB)) as writer:
        for values in fields:
            writer.add_document(**values)


def _index_fields(docs: Iterable[Doc], seq: int) -> Iterator[dict[str, Any]]:
    """Each searchable document's fields (once per uid), then the metadata document."""
    for fields in searchable_fields(docs):
        yield _prepared(fields)
    yield _meta(seq)


def rebuild_workers(expected: int) -> int:
    """How many worker processes a rebuild of about `expected` documents on disk uses."""
    if expected < PARALLEL_MIN_DOCS:
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def _base_sets(view: _View, q: SearchQuery) -> tuple[Hashable, list[set[int]]]:
    """The sets a hit must be in (live documents of the type, each filter's values),
    and a key naming that combination."""
    filters = tuple((f, tuple(sorted(v))) for f, v in checked_filters(q))
    sets = [view.term_docs("doc_type", q.doc_type)]
    sets += [view.any_of(field, values) for field, values in filters]
    return (q.doc_type, filters), sets


def _universe(view: _View, key: Hashable, base: list[set[int]]) -> set[int]:
    """Every live document of the type that passes the filters (cached per view)."""
    return view.memo(key, lambda: base[0].intersection(*base[1:]), bounded=True)


def _facets(
    view: _View, q: SearchQuery, matched: set[int], sets: tuple[Hashable, list[set[int]]]
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
    view: _View, parsed: ParsedQuery, q: SearchQuery, base: list[set[int]]
) -> tuple[Any, set[int], bool]:
    """The query that found something (exact first, then fuzzy), its hits, and if fuzzy."""
    wq = build_query(parsed, q.doc_type)
    matched = view.match(wq).intersection(*base)
    if matched or not any(fuzz_distance(w) for w in parsed.terms):
        return wq, matched, False
    wq = build_query(parsed, q.doc_type, fuzzy=True)
    matched = view.match(wq).intersection(*base)
    return wq, matched, bool(matched)


def _rank_entities(
    view: _View, p: ParsedQuery, matched: set[int], depth: int, fuzzy: bool
) -> list[tuple[int, float]]:
    """The best `depth` entities by tiers; the rest of the page in name order."""
    ranked = rank(matched, _entity_tiers(view, p, fuzzy), view.column("sort_name"), depth)
    if len(ranked) < depth:
        rest = matched.difference(d for d, _s in ranked)
        ranked += [(d, 0.0) for d in view.top(rest, "entity", "relevance", depth - len(ranked))]
    return ranked


def _ranked(
    view: _View,
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
        ranked = _rank_entities(view, p, matched, depth, fuzzy)
    elif len(matched) > BM25_MAX_RECORDS:
        ranked = tiered(
            matched,
            _record_tiers(view, p, fuzzy),
            depth,
            lambda docs, n: view.top(docs, "record", "date", n),
        )
    else:
        results = view.searcher.search(wq, filter=matched, limit=depth)
        ranked = [(hit.docnum, float(hit.score or 0.0)) for hit in results]
    return ranked, matched, fuzzy


def _search(view: _View, q: SearchQuery, p: ParsedQuery, page: int, size: int) -> SearchResults:
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
        highlights = _highlights(q.doc_type, data, marked) if q.with_highlights else {}
        hits.append(Hit(q.doc_type, stored["key"], score, data, highlights))
    facets = _facets(view, q, matched, sets) if q.with_facets else {}
    return SearchResults(tuple(hits), len(matched), page, size, facets, suggestion, fuzzy)
