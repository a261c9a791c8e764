"""Engine-free parts of search: reading what users type, and documents as index fields.

Nothing here imports an engine, so the rules (which words are optional, what a
registration id looks like, how a jurisdiction nests) are shared by any engine.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from search.base import (
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    Doc,
    EntityDoc,
    QueryRefused,
    RecordDoc,
)
from search.names import LEGAL_FORMS, fold, name_spans

# Words that connect a name ("Marks and Spencer", "Banco de España") and legal
# forms: they raise a match's relevance but never exclude one.
NAME_STOPWORDS = frozenset(
    "and the of de la le les del der die das und et y e di du des van von".split()
)
OPTIONAL_TOKENS = NAME_STOPWORDS | frozenset(LEGAL_FORMS.values())
# Records in any other status have left public view and are kept out of the index.
PUBLIC_STATUSES = frozenset({"published", "under_appeal"})
SEVERITY_RANK = {"minor": 1, "moderate": 2, "serious": 3, "severe": 4}
MAX_ID_LENGTH = 64

_LEADING_WILDCARD = re.compile(r'(?:^|[\s"(])[*?]+\w')
_SUFFIX_OPERATOR = re.compile(r"(?<=\w)[~^][\d.]*")
_OPERATOR_WORD = re.compile(r"\b(?:AND|OR|NOT)\b")
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
    """Drop control and format characters (NUL, bidi overrides, zero widths)."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)


def ident_form(text: str) -> str:
    """A registration id or record ref reduced to folded letters and digits."""
    return "".join(_WORD.findall(fold(text)))


def parse_query(text: str) -> ParsedQuery:
    """Read user text into terms and phrases; raise QueryRefused for input we will not run.

    Operators (AND OR NOT, field:, parentheses, ~, ^) are ignored or read as
    words; `*` and `?` inside or after a word are ignored (prefixes match
    anyway) and a word starting with one is refused.
    """
    text = text.strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryRefused(f"Searches are limited to {MAX_QUERY_LENGTH} characters.")
    text = _clean(text)
    if _LEADING_WILDCARD.search(text):
        raise QueryRefused("Searches cannot start with a wildcard.")
    text = _SUFFIX_OPERATOR.sub(" ", text)
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
    """The typed words with each unknown one replaced by its nearest matched word."""
    known = set(vocabulary)
    out: list[str] = []
    for word in words:
        near = [v for v in known if edit_distance(word, v) <= max(fuzz_distance(word), 0)]
        if word in known or any(v.startswith(word) for v in known) or not near:
            out.append(word)
        else:
            out.append(min(near, key=lambda v: (edit_distance(word, v), v)))
    suggestion = " ".join(out)
    return suggestion if out != list(words) else None


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
    }
    names = "\n".join(doc.aliases)
    return {
        "uid": f"entity:{doc.key}",
        "doc_type": "entity",
        "key": doc.key,
        "data": data,
        "name": doc.name,
        "aliases": names,
        "name_ngram": f"{doc.name}\n{names}",
        "name_start": name_key_of(doc.name),
        "name_key": name_key_of(doc.name),
        "ident": ident_form(doc.registration_id or "")[:MAX_ID_LENGTH],
        "kind": doc.kind,
        "jurisdiction": doc.jurisdiction.upper(),
        "jurisdictions": jurisdiction_path(doc.jurisdiction),
        "sector": doc.sector or "",
        "band": doc.band or "",
        "sort_name": name_key_of(doc.name),
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


def doc_fields(doc: Doc) -> dict[str, Any] | None:
    """Index fields of a document, or None when it must not be searchable."""
    if isinstance(doc, EntityDoc):
        return entity_fields(doc)
    return record_fields(doc) if doc.status in PUBLIC_STATUSES else None


def facet_counts(column: Sequence[str], docs: Iterable[int]) -> tuple[tuple[str, int], ...]:
    """Values of a per-document column over `docs`, by count descending then value."""
    counts = Counter(map(column.__getitem__, docs))
    counts.pop("", None)
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
