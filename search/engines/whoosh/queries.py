"""whoosh queries for parsed user text, and the entity and record relevance tiers."""

from __future__ import annotations

from typing import Any

from whoosh import query  # type: ignore[import-untyped]

from search.base import DocType
from search.engines.whoosh.schema import stems_of
from search.engines.whoosh.view import View
from search.query import ParsedQuery, fuzz_distance, transpositions


def near_spellings(field: str, word: str, boost: float = 1.0) -> list[Any]:
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


def entity_word(word: str, fuzzy: bool) -> Any:
    """One typed word an entity must have: a name or alias word starting with it (or near it).

    The edge n-grams hold every word of the name and aliases, so one term
    covers whole words and prefixes; whole words only add relevance (`entity_tiers`).
    """
    if len(word) >= 2:
        subs = [query.Term("name_ngram", word[:15])]
    else:
        subs = [query.Term("name", word, boost=3.0), query.Term("aliases", word, boost=1.5)]
    if fuzzy:
        subs += near_spellings("name", word, 1.0) + near_spellings("aliases", word, 0.5)
    return subs[0] if len(subs) == 1 else query.Or(subs)


def record_word(word: str, fuzzy: bool) -> Any:
    """One typed word against a record: stemmed text fields and the names it carries."""
    subs = [query.Term("entity_name", word, boost=2.0), query.Term("agency_name", word)]
    for stem in stems_of(word):
        subs += [query.Term("title", stem, boost=3.0), query.Term("summary", stem)]
        subs.append(query.Term("statute", stem))
        if fuzzy:
            subs += near_spellings("title", stem, 1.5) + near_spellings("summary", stem, 0.5)
    if fuzzy:
        subs += near_spellings("entity_name", word, 1.0)
    return query.Or(subs)


def phrase_query(doc_type: DocType, words: tuple[str, ...]) -> Any:
    """A quoted phrase: consecutive words in a name, or in record text once stemmed."""
    if doc_type == "entity":
        fields = [("name", words, 3.0), ("aliases", words, 1.5)]
    else:
        stems = tuple(stems_of(" ".join(words)))
        fields = [("entity_name", words, 2.0)]
        fields += [(f, stems, b) for f, b in (("title", 3.0), ("summary", 1.0), ("statute", 1.0))]
    return query.Or([query.Phrase(f, list(w), boost=b) for f, w, b in fields if len(w) > 1])


def build_query(p: ParsedQuery, doc_type: DocType, fuzzy: bool = False) -> Any:
    """The whoosh query for parsed user text; `fuzzy` also accepts near spellings."""
    word = entity_word if doc_type == "entity" else record_word
    required = [w for w in p.required() if doc_type == "entity" or stems_of(w)] or list(p.terms)
    parts = [word(w, fuzzy) for w in required] + [phrase_query(doc_type, ph) for ph in p.phrases]
    text_q = query.And(parts) if parts else query.NullQuery
    optional = [word(w, False) for w in p.terms if w not in required]
    if parts and optional and doc_type == "record":
        text_q = query.AndMaybe(text_q, query.Or(optional))
    if p.ident:
        return query.Or([text_q, query.Term("ident", p.ident, boost=10.0)])
    return text_q


def entity_tiers(view: View, p: ParsedQuery, fuzzy: bool) -> list[list[set[int]]]:
    """Entity relevance tiers, first deciding first: registration id, whole name, name
    start, words whole in the name (near them, when fuzzy), then words in an alias."""
    key = " ".join(p.terms)
    words = p.words()
    if fuzzy:
        name_words = [view.match(t) for w in words for t in near_spellings("name", w)]
    else:
        name_words = [view.term_docs("name", w) for w in words]
    return [
        [view.term_docs("ident", p.ident)] if p.ident else [],
        [view.name_starts(key, whole=True)] if key else [],
        [view.name_starts(key)] if key else [],
        name_words,
        [view.term_docs("aliases", w) for w in words],
    ]


def record_tiers(view: View, p: ParsedQuery, fuzzy: bool) -> list[list[set[int]]]:
    """Record relevance tiers for a large match set, first deciding first: typed words in
    the title, in the entity's name, then in the summary, statute or agency (near them,
    when fuzzy)."""
    words = p.words()

    def docs(field: str, word: str) -> set[int]:
        """Documents with the word (or a near spelling) in a field."""
        if fuzzy:
            found = [view.match(t) for t in near_spellings(field, word)]
            return set().union(view.term_docs(field, word), *found)
        return view.term_docs(field, word)

    def text(field: str, word: str) -> set[int]:
        """Documents with the word, stemmed, in a text field."""
        return set().union(*(docs(field, stem) for stem in stems_of(word)))

    return [
        [text("title", w) for w in words],
        [docs("entity_name", w) for w in words],
        [
            set().union(text("summary", w), text("statute", w), docs("agency_name", w))
            for w in words
        ],
    ]
