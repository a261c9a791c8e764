"""Document sets over one whoosh searcher, cached per segment and per view.

Matching is done with document sets (per term, cached per segment): a segment
never changes except for deletions, so what is read from it once stays right.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, TypeVar, cast

from whoosh import query  # type: ignore[import-untyped]

from search.base import DocType
from search.documents import SEVERITY_RANK

T = TypeVar("T")


MAX_CACHED_TERMS = 4096
SORT_COLUMNS = ("sort_name", "sort_num", "severity")


def _remember(store: dict[Any, T], key: Any, make: Callable[[], T], cap: int | None) -> T:
    """`store[key]`, made if missing; past `cap` entries the oldest quarter is dropped."""
    if key not in store:
        if cap is not None and len(store) >= cap:
            for old in list(store)[: cap // 4]:
                del store[old]
        store[key] = make()
    return store[key]


class SegmentCache:
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


class View:
    """One searcher and what is cached for it: doc sets, columns, sort orders."""

    def __init__(self, ix: Any, segments: SegmentCache) -> None:
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
