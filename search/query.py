"""What users type: parsed queries, fuzziness and corrections, paging and checked filters.

Engine-free: which words are optional, what a registration id looks like and
how far a query may page are the same rules for every engine.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from search.base import (
    ENTITY_FACETS,
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    RECORD_FACETS,
    QueryRefused,
    SearchQuery,
)
from search.names import LEGAL_FORMS, fold, name_spans

# Words that connect a name ("Marks and Spencer", "Banco de España") and legal
# forms: they raise a match's relevance but never exclude one.
NAME_STOPWORDS = frozenset(
    "and the of de la le les del der die das und et y e di du des van von".split()  # noqa: SIM905
)
OPTIONAL_TOKENS = NAME_STOPWORDS | frozenset(LEGAL_FORMS.values())
FACETS: dict[str, tuple[str, ...]] = {"entity": ENTITY_FACETS, "record": RECORD_FACETS}
MAX_ID_LENGTH = 64
MAX_PER_PAGE = 100
MAX_DEPTH = 50_000
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
