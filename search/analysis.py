"""Engine-free parts of search: what users type, documents as fields, ranking, the directory.

Nothing here imports an engine (one module of `search/` may), so the rules —
which words are optional, what a registration id looks like, how a
jurisdiction nests, how entities rank, how a directory swaps generations —
are shared by any engine.
"""

from __future__ import annotations

import fcntl
import heapq
import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.base import (
    ENTITY_FACETS,
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    RECORD_FACETS,
    UNDER_SANCTION,
    Doc,
    EntityDoc,
    QueryRefused,
    RecordDoc,
    SearchQuery,
)
from search.names import LEGAL_FORMS, fold, name_spans

# Words that connect a name ("Marks and Spencer", "Banco de España") and legal
# forms: they raise a match's relevance but never exclude one.
NAME_STOPWORDS = frozenset(
    "and the of de la le les del der die das und et y e di du des van von".split()  # noqa: SIM905
)
OPTIONAL_TOKENS = NAME_STOPWORDS | frozenset(LEGAL_FORMS.values())
# Records in any other status have left public view and are kept out of the index.
PUBLIC_STATUSES = frozenset({"published", "under_appeal"})
SEVERITY_RANK = {"minor": 1, "moderate": 2, "serious": 3, "severe": 4}
FACETS: dict[str, tuple[str, ...]] = {"entity": ENTITY_FACETS, "record": RECORD_FACETS}
MAX_ID_LENGTH = 64
MAX_PER_PAGE = 100
MAX_DEPTH = 50_000
LOCK_TIMEOUT = 120.0
_GEN_NAME = re.compile(r"gen-[0-9a-f]+-[0-9a-f]+")

_LEADING_WILDCARD = re.compile(r'(?:^|[\s"(])[*?]+\w')
_SUFFIX_OPERATOR = re.compile(r"(?<=\w)[~^][\d.]*")
_OPERATOR_WORD = re.compile(r"\b(?:AND|OR|NOT)\b")
_FIELD_PREFIX = re.compile(r"\b[^\W\d_]\w*:(?=\S)")
_WILDCARD = re.compile(r"[*?]")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ParsedQuery:
    """User text as folded name tokens outside quotes, quoted phrases, and an id form."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    ident: str = ""
    typed: bool = False

    @property
    def empty(self) -> bool:
        """True when nothing searchable is left (match-all if nothing was typed)."""
        return not self.terms and not self.phrases and not self.ident

    def required(self) -> tuple[str, ...]:
        """Terms every hit must contain; all terms when every one is optional."""
        required = tuple(t for t in self.terms if t not in OPTIONAL_TOKENS)
        return required if required or self.phrases else self.terms

    def optional(self) -> tuple[str, ...]:
        """Connecting words and legal forms that only add relevance."""
        required = self.required()
        return tuple(t for t in self.terms if t not in required)

    def words(self) -> tuple[str, ...]:
        """Every token, phrases included, in the order typed."""
        return self.terms + tuple(w for phrase in self.phrases for w in phrase)


def _clean(text: str) -> str:
    """Remove format characters (zero widths, bidi overrides) as folding does; controls split."""
    return "".join(
        "" if (category := unicodedata.category(c)) == "Cf" else " " if category == "Cc" else c
        for c in text
    )


def ident_form(text: str) -> str:
    """A registration id or record ref reduced to folded letters and digits."""
    return "".join(_WORD.findall(fold(text)))


def parse_query(text: str) -> ParsedQuery:
    """Read user text into terms and phrases; raise QueryRefused for input we will not run.

    Operators (AND OR NOT, `field:`, parentheses, ~, ^) are ignored; `*` and
    `?` inside or after a word are dropped (every word matches as a prefix
    anyway) and a word starting with one is refused.
    """
    text = text.strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryRefused(f"Searches are limited to {MAX_QUERY_LENGTH} characters.")
    text = _clean(text)
    if _LEADING_WILDCARD.search(text):
        raise QueryRefused("Searches cannot start with a wildcard.")
    text = _WILDCARD.sub("", _FIELD_PREFIX.sub(" ", _SUFFIX_OPERATOR.sub(" ", text)))
    parts = text.split('"')
    if len(parts) % 2 == 0:
        parts[-2:] = [parts[-2] + " " + parts[-1]]
    plain = _OPERATOR_WORD.sub(" ", " ".join(parts[0::2]))
    terms = [t for t, _s, _e in name_spans(plain)]
    phrases: list[tuple[str, ...]] = []
    for quoted in parts[1::2]:
        tokens = tuple(t for t, _s, _e in name_spans(quoted))
        if len(tokens) == 1:
            terms.extend(tokens)
        elif tokens:
            phrases.append(tokens)
    terms, phrases = _cap(list(dict.fromkeys(terms)), phrases)
    ident = ident_form(text)
    return ParsedQuery(
        tuple(terms), tuple(phrases), ident if len(ident) <= MAX_ID_LENGTH else "", bool(text)
    )


def _cap(
    terms: list[str], phrases: list[tuple[str, ...]]
) -> tuple[list[str], list[tuple[str, ...]]]:
    """Keep at most MAX_TERMS tokens, terms first, then whole phrases that fit."""
    terms = terms[:MAX_TERMS]
    room = MAX_TERMS - len(terms)
    kept: list[tuple[str, ...]] = []
    for phrase in phrases:
        if len(phrase) <= room:
            kept.append(phrase)
            room -= len(phrase)
    return terms, kept


def fuzz_distance(word: str) -> int:
    """Edit distance allowed for a mistyped word: none under 4 letters, 1 up to 7, then 2."""
    if len(word) < 4:
        return 0
    return 1 if len(word) <= 7 else 2


def transpositions(word: str, keep: int = 1) -> list[str]:
    """The word with each pair of neighbouring letters swapped, the first `keep` left alone."""
    swapped = (word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(keep, len(word) - 1))
    return [w for w in dict.fromkeys(swapped) if w != word]


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions counted as one edit."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, prev2[j - 2] + 1)
            row.append(cost)
        prev2, prev = prev, row
    return prev[-1]


def corrected(words: Sequence[str], vocabulary: Iterable[str]) -> str | None:
    """The typed words with each one the vocabulary lacks replaced by its nearest word there.

    A word that starts a vocabulary word is kept (it was typed half-way); None
    when nothing changed.
    """
    known = set(vocabulary)
    out = []
    for word in words:
        near = [v for v in known if edit_distance(word, v) <= fuzz_distance(word)]
        if near and not any(v.startswith(word) for v in known):
            word = min(near, key=lambda v: (edit_distance(word, v), v))
        out.append(word)
    return " ".join(out) if out != list(words) else None


def name_key_of(text: str) -> str:
    """The folded tokens of a name joined by spaces (any script kept)."""
    return " ".join(t for t, _s, _e in name_spans(text))


def jurisdiction_path(code: str) -> str:
    """A code and its ancestors, space separated: "GB-WLS" -> "GB GB-WLS"."""
    parts = code.upper().split("-")
    return " ".join("-".join(parts[: i + 1]) for i in range(len(parts)))


def entity_fields(doc: EntityDoc) -> dict[str, Any]:
    """An entity as index field values, with the stored fields a result list shows."""
    data = {
        "name": doc.name,
        "kind": doc.kind,
        "jurisdiction": doc.jurisdiction,
        "sector": doc.sector,
        "score": doc.score,
        "band": doc.band,
        "registration_id": doc.registration_id,
        "aliases": list(doc.aliases),
        "parent": doc.parent,
        "sanction": doc.sanction,
    }
    names = "\n".join(doc.aliases)
    key = name_key_of(doc.name)
    return {
        "uid": f"entity:{doc.key}",
        "doc_type": "entity",
        "key": doc.key,
        "data": data,
        "name": doc.name,
        "aliases": names,
        "name_ngram": f"{doc.name}\n{names}",
        "ident": ident_form(doc.registration_id or "")[:MAX_ID_LENGTH],
        "kind": doc.kind,
        "jurisdiction": doc.jurisdiction.upper(),
        "jurisdictions": jurisdiction_path(doc.jurisdiction),
        "sector": doc.sector or "",
        "band": doc.band or "",
        "sanction": UNDER_SANCTION if doc.sanction else "",
        "sort_name": key,
        "sort_num": -1.0 if doc.score is None else float(doc.score),
    }


def record_fields(doc: RecordDoc) -> dict[str, Any]:
    """A record as index field values, with the stored fields a result list shows."""
    data = {
        "title": doc.title,
        "summary": doc.summary,
        "entity_key": doc.entity_key,
        "entity_name": doc.entity_name,
        "agency": doc.agency,
        "agency_name": doc.agency_name,
        "category": doc.category,
        "severity": doc.severity,
        "nature": doc.nature,
        "jurisdiction": doc.jurisdiction,
        "status": doc.status,
        "decided_on": doc.decided_on.isoformat(),
        "published_at": doc.published_at.isoformat() if doc.published_at else None,
        "penalty_amount": doc.penalty_amount,
        "penalty_currency": doc.penalty_currency,
    }
    return {
        "uid": f"record:{doc.key}",
        "doc_type": "record",
        "key": doc.key,
        "data": data,
        "title": doc.title,
        "summary": doc.summary or "",
        "statute": doc.statute or "",
        "entity_name": doc.entity_name,
        "agency_name": doc.agency_name,
        "entity_key": doc.entity_key,
        "ident": ident_form(doc.key)[:MAX_ID_LENGTH],
        "agency": doc.agency,
        "category": doc.category,
        "year": str(doc.decided_on.year),
        "nature": doc.nature,
        "severity": doc.severity,
        "jurisdiction": doc.jurisdiction.upper(),
        "jurisdictions": jurisdiction_path(doc.jurisdiction),
        "sort_name": name_key_of(doc.title),
        "sort_num": float(doc.decided_on.toordinal()),
    }


def vocabulary(doc_type: str, data: Mapping[str, Any]) -> list[str]:
    """The words of a hit a "did you mean" may draw on: names, or record title and text."""
    if doc_type == "entity":
        texts = [data["name"], *data.get("aliases", [])]
    else:
        texts = [data["title"], data["entity_name"], data.get("summary") or ""]
    return [t for text in texts for t, _s, _e in name_spans(text)]


def uid_of(doc: Doc) -> str:
    """The index-wide unique id of a document: its type and key."""
    return f"{'entity' if isinstance(doc, EntityDoc) else 'record'}:{doc.key}"


def doc_fields(doc: Doc) -> dict[str, Any] | None:
    """Index fields of a document, or None when it must not be searchable."""
    if isinstance(doc, EntityDoc):
        return entity_fields(doc)
    return record_fields(doc) if doc.status in PUBLIC_STATUSES else None


def searchable_fields(docs: Iterable[Doc]) -> Iterator[dict[str, Any]]:
    """The fields of each searchable document, the first of a repeated uid only.

    A source that promises unique documents (`unique = True`, as the portal's
    `all_documents` does: slugs and refs are unique in the database) is not tracked:
    at 1,000,000 entities the set of uids alone would hold about 400 MB.
    """
    unique = bool(getattr(docs, "unique", False))
    seen: set[str] = set()
    for doc in docs:
        fields = doc_fields(doc)
        if fields is None:
            continue
        if not unique:
            if fields["uid"] in seen:
                continue
            seen.add(fields["uid"])
        yield fields


def rank(
    matched: set[int], tiers: Sequence[Sequence[set[int]]], names: Sequence[bytes], depth: int
) -> list[tuple[int, float]]:
    """The best `depth` documents of `matched` found in any tier set, with a relevance.

    A document ranks by how many sets of each tier hold it, the first tier
    deciding first, then by the shorter name and the name itself. Relevance
    reads those counts (each capped at 9) as the digits of one number.
    """
    sets = [s for tier in tiers for s in tier]
    if not sets:
        return []
    positive = matched.intersection(sets[0].union(*sets[1:]))

    def first(docs: set[int], count: int) -> list[int]:
        """The shorter name first, then the name, then the number."""
        return heapq.nsmallest(count, docs, key=lambda d: (len(names[d]), names[d], d))

    # Groups by tier counts, ordered only as far as the page reaches: a common word's
    # thousands of matches are not each given a sort key.
    return tiered(positive, tiers, depth, first)


def _by_count(docs: set[int], sets: Sequence[set[int]]) -> Iterator[tuple[int, set[int]]]:
    """`docs` split by how many of `sets` hold each one, most first (empty groups left out)."""
    if len(sets) <= 1:
        inside = docs.intersection(*sets) if sets else set()
        groups = [(1, inside), (0, docs - inside)] if sets else [(0, docs)]
    else:
        counts: Counter[int] = Counter()
        for found in sets:
            counts.update(found & docs)
        by_count: dict[int, set[int]] = {0: docs.difference(counts)}
        for doc, count in counts.items():
            by_count.setdefault(count, set()).add(doc)
        groups = sorted(by_count.items(), reverse=True)
    return ((count, group) for count, group in groups if group)


def tiered(
    matched: set[int],
    tiers: Sequence[Sequence[set[int]]],
    depth: int,
    first: Callable[[set[int], int], list[int]],
) -> list[tuple[int, float]]:
    """The best `depth` of `matched`: by how many sets of each tier hold a document, the
    first tier deciding first, then in the order `first(docs, n)` gives within a group.

    Only the groups a page reaches are ordered, so a large `matched` costs set operations,
    not a score per document. Relevance reads the counts (capped at 9) as digits.
    """
    out: list[tuple[int, float]] = []

    def walk(docs: set[int], level: int, digits: str) -> None:
        """Fill `out` from `docs`, best group first, until it holds `depth`."""
        if level == len(tiers):
            out.extend((d, float(digits or 0)) for d in first(docs, depth - len(out)))
            return
        for count, group in _by_count(docs, tiers[level]):
            walk(group, level + 1, digits + str(min(count, 9)))
            if len(out) >= depth:
                return

    if depth > 0 and matched:
        walk(matched, 0, "")
    return out


def facet_counts(column: Sequence[str], docs: Iterable[int]) -> tuple[tuple[str, int], ...]:
    """Values of a per-document column over `docs`, by count descending then value."""
    return sorted_counts(Counter(map(column.__getitem__, docs)))


def sorted_counts(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    """Counted facet values (the empty value left out), by count descending then value."""
    return tuple(sorted(((v, n) for v, n in counts.items() if v), key=lambda i: (-i[1], i[0])))


# -- query limits and the index directory (engine-free) --------------------------------


@contextmanager
def file_lock(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive flock on `path`, waiting up to `timeout` seconds."""
    with open(path, "a+b") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"search index busy: {path} held > {timeout}s") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SingleWriter:
    """Be the only writer of an index: a thread lock and, on disk, `.write.lock`.

    Re-entrant: `with writing():` inside another takes neither lock again. Take it
    before an engine's reading lock, never after.
    """

    def __init__(self, root: Path | None) -> None:
        """Guard the index whose generations live in `root` (None: in memory)."""
        self._root = root
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        """Hold the write locks for the block."""
        with self._lock:
            self._depth += 1
            try:
                if self._root is not None and self._depth == 1:
                    with file_lock(self._root / ".write.lock"):
                        yield
                else:
                    yield
            finally:
                self._depth -= 1


class Generations:
    """The folders of a directory backend: `CURRENT` names the live `gen-*` one."""

    def __init__(self, root: Path) -> None:
        """Remember (and create) the backend directory."""
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def current(self) -> str | None:
        """The live generation's folder name, or None when there is none (or garbage)."""
        with suppress(OSError, UnicodeDecodeError):
            name = (self.root / "CURRENT").read_text().strip()
            if _GEN_NAME.fullmatch(name) and (self.root / name).is_dir():
                return name
        return None

    def create(self) -> str:
        """Make an empty folder for a new generation and return its name."""
        name = f"gen-{time.time_ns():x}-{secrets.token_hex(4)}"
        (self.root / name).mkdir()
        return name

    def publish(self, name: str) -> None:
        """Point CURRENT at `name` in one atomic rename, flushed to disk."""
        tmp = self.root / f"CURRENT.{secrets.token_hex(4)}"
        with open(tmp, "w") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / "CURRENT")
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, keep: str, only: str | None = None) -> None:
        """Delete generation folders other than `keep` (just `only`, when given)."""
        for path in self.root.glob("gen-*"):
            if path.name != keep and only in (None, path.name):
                shutil.rmtree(path, ignore_errors=True)


def paging(q: SearchQuery) -> tuple[int, int]:
    """The page and page size to use; refuse paging deeper than MAX_DEPTH results."""
    page, per_page = max(q.page, 1), min(max(q.per_page, 1), MAX_PER_PAGE)
    if page * per_page > MAX_DEPTH:
        raise QueryRefused(f"Only the first {MAX_DEPTH:,} results can be shown; refine the search.")
    return page, per_page


def checked_filters(q: SearchQuery) -> list[tuple[str, list[str]]]:
    """The query's filters as (index field, values); refuse unknown facets."""
    out = []
    for facet, values in q.filters.items():
        if facet not in FACETS[q.doc_type]:
            raise QueryRefused(f"Unknown filter: {facet}.")
        vals = [values] if isinstance(values, str) else [str(v) for v in values]
        if len(vals) > 50:
            raise QueryRefused("Too many values in one filter.")
        if facet == "jurisdiction" and vals:
            out.append(("jurisdictions", [v.upper() for v in vals]))
        elif vals:
            out.append((facet, vals))
    return out
