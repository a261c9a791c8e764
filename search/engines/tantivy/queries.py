"""tantivy queries for parsed user text, filters, and the entity relevance tiers."""

from __future__ import annotations

from collections.abc import Sequence

from tantivy import Occur, Query

from search.base import DocType, SearchQuery
from search.engines.tantivy.schema import NGRAM_MAX, SCHEMA, SORT_CAP, START_MAX, pad, stems_of
from search.query import ParsedQuery, checked_filters, fuzz_distance


def term(field: str, value: str) -> Query:
    """Documents holding one exact term."""
    return Query.term_query(SCHEMA, field, value)


def word_term(field: str, word: str) -> Query:
    """Documents holding one (padded) word in a text field."""
    return term(field, pad(word))


def boosted(query: Query, boost: float) -> Query:
    """A query whose score is multiplied by `boost`."""
    return query if boost == 1.0 else Query.boost_query(query, boost)


def any_of(queries: Sequence[Query], at_least: int = 1) -> Query:
    """Documents matching at least `at_least` of the queries (none: nothing)."""
    if not queries:
        return Query.empty_query()
    if len(queries) == 1 and at_least == 1:
        return queries[0]
    should = [(Occur.Should, q) for q in queries]
    return Query.boolean_query(should, minimum_number_should_match=at_least)


def all_of(queries: Sequence[Query], excluded: Sequence[Query] = ()) -> Query:
    """Documents matching every query and none of `excluded`."""
    if len(queries) == 1 and not excluded:
        return queries[0]
    clauses = [(Occur.Must, q) for q in queries] + [(Occur.MustNot, q) for q in excluded]
    return Query.boolean_query(clauses)


def unscored(query: Query) -> Query:
    """The same documents, adding nothing to the score."""
    return Query.const_score_query(query, 0.0)


def near_spellings(field: str, word: str, boost: float = 1.0) -> list[Query]:
    """Near spellings of a word long enough to have typos (`search.query.fuzz_distance`).

    As in whoosh: Levenshtein distance, two swapped letters counting as one
    edit for words allowed one, the first letter kept (by the padding).
    """
    dist = fuzz_distance(word)
    if not dist:
        return []
    fuzzy = Query.fuzzy_term_query(SCHEMA, field, pad(word), dist, dist == 1)
    return [boosted(fuzzy, boost)]


def entity_word(word: str, fuzzy: bool) -> Query:
    """One typed word an entity must have: a name or alias word starting with it (or near it)."""
    if len(word) >= 2:
        subs = [term("name_ngram", word[:NGRAM_MAX])]
    else:
        subs = [word_term("name", word), word_term("aliases", word)]
    if fuzzy:
        subs += near_spellings("name", word) + near_spellings("aliases", word)
    return any_of(subs)


def record_word(word: str, fuzzy: bool) -> Query:
    """One typed word against a record: stemmed text fields and the names it carries."""
    subs = [boosted(word_term("entity_name", word), 2.0), word_term("agency_name", word)]
    for stem in stems_of(word):
        subs += [boosted(word_term("title", stem), 3.0), word_term("summary", stem)]
        subs.append(word_term("statute", stem))
        if fuzzy:
            subs += near_spellings("title", stem, 1.5) + near_spellings("summary", stem, 0.5)
    if fuzzy:
        subs += near_spellings("entity_name", word)
    return any_of(subs)


def phrase_query(doc_type: DocType, words: tuple[str, ...]) -> Query:
    """A quoted phrase: consecutive words in a name, or in record text once stemmed."""
    if doc_type == "entity":
        fields = [("name", words, 3.0), ("aliases", words, 1.5)]
    else:
        stems = tuple(stems_of(" ".join(words)))
        fields = [("entity_name", words, 2.0)]
        fields += [(f, stems, b) for f, b in (("title", 3.0), ("summary", 1.0), ("statute", 1.0))]
    return any_of(
        [
            boosted(Query.phrase_query(SCHEMA, f, [pad(w) for w in ws]), b)
            for f, ws, b in fields
            if len(ws) > 1
        ]
    )


def build_query(p: ParsedQuery, doc_type: DocType, fuzzy: bool = False) -> Query:
    """The tantivy query for parsed user text; `fuzzy` also accepts near spellings."""
    word = entity_word if doc_type == "entity" else record_word
    required = [w for w in p.required() if doc_type == "entity" or stems_of(w)] or list(p.terms)
    parts = [word(w, fuzzy) for w in required] + [phrase_query(doc_type, ph) for ph in p.phrases]
    text_q = all_of(parts) if parts else Query.empty_query()
    optional = [word(w, False) for w in p.terms if w not in required]
    if parts and optional and doc_type == "record":
        text_q = Query.boolean_query([(Occur.Must, text_q), (Occur.Should, any_of(optional))])
    if p.ident:
        return any_of([text_q, boosted(term("ident", p.ident), 10.0)])
    return text_q


def name_starts(key: str) -> Query:
    """Entities whose folded name starts with `key`."""
    if len(key) <= START_MAX:
        return term("name_start", key.replace(" ", "_"))
    # One prefix term reads the names in that range of the term dictionary (few, this long).
    return Query.phrase_prefix_query(SCHEMA, "name_key", [key[:SORT_CAP]])


def entity_tiers(p: ParsedQuery, fuzzy: bool) -> list[list[Query]]:
    """Entity relevance tiers, the first deciding first (as in the whoosh engine).

    Registration id, whole name, name start, words whole in the name (near
    them, when fuzzy), then words in an alias.
    """
    key = " ".join(p.terms)
    words = p.words()
    if fuzzy:
        name_words = [q for w in words for q in near_spellings("name", w)]
    else:
        name_words = [word_term("name", w) for w in words]
    return [
        [term("ident", p.ident)] if p.ident else [],
        [term("name_key", key[:SORT_CAP])] if key else [],
        [name_starts(key)] if key else [],
        name_words,
        [word_term("aliases", w) for w in words],
    ]


def filtered(text_q: Query | None, q: SearchQuery) -> Query:
    """Documents of the query's type passing its filters (and matching `text_q`)."""
    parts = [] if text_q is None else [text_q]
    parts.append(unscored(term("doc_type", q.doc_type)))
    for name, values in checked_filters(q):
        # Terms, not a term set: tantivy reads a term set's documents whole, before intersecting.
        parts.append(unscored(any_of([term(name, v) for v in dict.fromkeys(values)])))
    return all_of(parts)
