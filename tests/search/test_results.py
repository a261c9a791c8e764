"""Filters, facet counts, sort orders, pages and highlighted snippets."""

from __future__ import annotations

from datetime import date

import pytest

from search.base import ENTITY_FACETS, RECORD_FACETS, ChangeBatch, QueryRefused, SearchQuery
from tests.search.factories import entity, index, record


def test_empty_text_lists_every_document_of_the_type(backend):
    index(backend, entity("Beta", key="b"), entity("Alpha", key="a"), record("R-1", "Fine"))
    results = backend.query(SearchQuery())
    assert (results.total, [h.key for h in results.hits]) == (2, ["a", "b"])


def test_entity_facets_count_the_matching_documents(backend):
    index(
        backend,
        entity("Acme Water", kind="business", jurisdiction="GB-WLS", sector="water", band="A"),
        entity("Acme Rail", kind="business", jurisdiction="GB", sector="rail", band="B"),
        entity("Acme Council", kind="government_body", jurisdiction="GB-WLS", band="B"),
        entity("Other", kind="business", jurisdiction="FR"),
    )
    facets = backend.query(SearchQuery(text="acme")).facets
    assert set(facets) == set(ENTITY_FACETS)
    assert facets["kind"] == (("business", 2), ("government_body", 1))
    assert facets["jurisdiction"] == (("GB-WLS", 2), ("GB", 1))
    assert facets["sector"] == (("rail", 1), ("water", 1))
    assert facets["band"] == (("B", 2), ("A", 1))


def test_record_facets_count_the_matching_documents(backend):
    index(
        backend,
        record("R-1", "Fine", agency="ico", category="security", decided_on=date(2023, 5, 1)),
        record("R-2", "Fine", agency="ofwat", severity="severe", nature="violation"),
        record("R-3", "Award", agency="ico", nature="commendation", jurisdiction="GB-SCT"),
    )
    facets = backend.query(SearchQuery(doc_type="record")).facets
    assert set(facets) == set(RECORD_FACETS)
    assert facets["agency"] == (("ico", 2), ("ofwat", 1))
    assert facets["category"] == (("data_protection", 2), ("security", 1))
    assert facets["year"] == (("2024", 2), ("2023", 1))
    assert facets["nature"] == (("violation", 2), ("commendation", 1))
    assert facets["severity"] == (("moderate", 2), ("severe", 1))
    assert facets["jurisdiction"] == (("GB", 2), ("GB-SCT", 1))


def test_facets_can_be_left_out(backend):
    index(backend, entity("Acme"))
    assert backend.query(SearchQuery(with_facets=False)).facets == {}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"kind": ["business"]}, ["rail", "water"]),
        ({"kind": ["business", "government_body"]}, ["council", "rail", "water"]),
        ({"kind": ["business"], "sector": ["water"]}, ["water"]),
        ({"band": ["B"]}, ["council", "rail"]),
        ({"jurisdiction": ["GB-WLS"]}, ["council", "water"]),
        ({"jurisdiction": ["GB"]}, ["council", "rail", "water"]),
        ({"jurisdiction": ["gb"]}, ["council", "rail", "water"]),
        ({"jurisdiction": ["G"]}, []),
        ({"kind": []}, ["council", "other", "rail", "water"]),
        ({"jurisdiction": []}, ["council", "other", "rail", "water"]),
    ],
)
def test_filters_are_or_within_a_facet_and_across_facets(backend, filters, expected):
    index(
        backend,
        entity("Acme Water", key="water", jurisdiction="GB-WLS", sector="water", band="A"),
        entity("Acme Rail", key="rail", jurisdiction="GB", sector="rail", band="B"),
        entity("Acme Council", key="council", kind="government_body", jurisdiction="GB-WLS",
               band="B"),
        entity("Other", key="other", kind="official", jurisdiction="FR"),
    )  # fmt: skip
    results = backend.query(SearchQuery(filters=filters))
    assert sorted(h.key for h in results.hits) == expected
    assert results.total == len(expected)


def test_facet_counts_follow_the_filters(backend):
    index(backend, entity("A", kind="business", band="A"), entity("B", kind="official", band="B"))
    facets = backend.query(SearchQuery(filters={"kind": ["official"]})).facets
    assert facets["band"] == (("B", 1),)


def test_record_filters_by_year_and_agency(backend):
    index(
        backend,
        record("R-1", "Fine", decided_on=date(2023, 5, 1)),
        record("R-2", "Fine", agency="ofwat"),
    )
    query = SearchQuery(doc_type="record", filters={"year": ["2024"], "agency": ["ofwat"]})
    assert [h.key for h in backend.query(query).hits] == ["R-2"]


def test_an_unknown_filter_is_refused(backend):
    with pytest.raises(QueryRefused, match="Unknown filter"):
        backend.query(SearchQuery(filters={"severity": ["severe"]}))


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("relevance", ["alpha", "beta", "gamma"]), ("score", ["beta", "gamma", "alpha"]),
     ("date", ["alpha", "beta", "gamma"])],
)  # fmt: skip
def test_entity_sorts(backend, sort, expected):
    # score: highest first, entities without a score last; date: by name.
    index(
        backend,
        entity("Gamma", key="gamma", score=40.0),
        entity("Alpha", key="alpha"),
        entity("Beta", key="beta", score=95.5),
    )
    assert [h.key for h in backend.query(SearchQuery(sort=sort)).hits] == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("date", ["new", "mid", "old"]), ("score", ["mid", "new", "old"])],
)
def test_record_sorts(backend, sort, expected):
    # date: newest decision first; score: most severe first, then newest.
    index(
        backend,
        record("old", "Fine", decided_on=date(2020, 1, 1)),
        record("new", "Fine", decided_on=date(2025, 1, 1)),
        record("mid", "Fine", decided_on=date(2022, 1, 1), severity="severe"),
    )
    query = SearchQuery(doc_type="record", text="fine", sort=sort)
    assert [h.key for h in backend.query(query).hits] == expected


def test_pages_split_the_results_and_keep_the_total(backend):
    index(backend, *(entity(f"Acme {i:02d}", key=f"a{i:02d}") for i in range(25)))
    pages = [backend.query(SearchQuery(text="acme", page=p, per_page=10)) for p in (1, 2, 3, 4)]
    assert [len(p.hits) for p in pages] == [10, 10, 5, 0]
    assert {p.total for p in pages} == {25}
    assert len({h.key for p in pages for h in p.hits}) == 25
    assert (pages[1].page, pages[1].per_page) == (2, 10)


def test_hits_carry_what_a_result_list_shows(backend):
    index(
        backend,
        entity("Acme Ltd", key="acme", sector="retail", score=81.5, band="B",
               registration_id="123", aliases=("Acme Stores",)),
        record("R-1", "Fine", penalty_amount=5000.0, penalty_currency="GBP"),
    )  # fmt: skip
    fields = backend.query(SearchQuery(text="acme")).hits[0].fields
    assert {k: fields[k] for k in ("name", "kind", "jurisdiction", "sector", "score", "band",
                                   "registration_id")} == {  # fmt: skip
        "name": "Acme Ltd", "kind": "business", "jurisdiction": "GB", "sector": "retail",
        "score": 81.5, "band": "B", "registration_id": "123"}  # fmt: skip
    assert list(fields["aliases"]) == ["Acme Stores"]
    fields = backend.query(SearchQuery(doc_type="record")).hits[0].fields
    assert fields["decided_on"] == "2024-01-01"
    assert (fields["penalty_amount"], fields["penalty_currency"]) == (5000.0, "GBP")
    for name in ("title", "entity_key", "entity_name", "agency", "agency_name", "category",
                 "severity", "nature"):  # fmt: skip
        assert fields[name], name


def test_highlights_mark_matched_words_and_escape_the_rest(backend):
    index(backend, entity("<script>alert(1)</script> & Acme Ltd", key="x"))
    highlighted = backend.query(SearchQuery(text="acme")).hits[0].highlights["name"]
    assert highlighted == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; <mark>Acme</mark> Ltd"


def test_highlights_mark_word_starts_and_folded_words(backend):
    index(backend, entity("Société Générale", key="x"))
    highlighted = backend.query(SearchQuery(text="soc generale")).hits[0].highlights["name"]
    assert highlighted == "<mark>Société</mark> <mark>Générale</mark>"


def test_record_highlights_mark_stemmed_words_in_title_and_summary(backend):
    index(backend, record("R-1", "Breaches <b>found</b>", summary="A breach & a fine."))
    highlights = backend.query(SearchQuery(doc_type="record", text="breach")).hits[0].highlights
    assert highlights["title"] == "<mark>Breaches</mark> &lt;b&gt;found&lt;/b&gt;"
    assert "<mark>breach</mark> &amp; a fine" in highlights["summary"]


def test_highlights_can_be_left_out_without_changing_the_hits(backend):
    index(backend, entity("Acme Widgets Ltd", key="a"), entity("Acme Gadgets Ltd", key="b"))
    marked = backend.query(SearchQuery(text="acme widgets"))
    plain = backend.query(SearchQuery(text="acme widgets", with_highlights=False))
    assert [h.key for h in plain.hits] == [h.key for h in marked.hits] == ["a"]
    assert marked.hits[0].highlights and plain.hits[0].highlights == {}


def test_deep_pages_are_refused(backend):
    with pytest.raises(QueryRefused):
        backend.query(SearchQuery(page=100_000, per_page=100))


@pytest.mark.parametrize(
    ("facet", "value", "expected"),
    [
        ("agency", "ofwat", ["R-2"]),
        ("category", "security", ["R-1"]),
        ("year", "2023", ["R-1"]),
        ("nature", "commendation", ["R-3"]),
        ("severity", "severe", ["R-2"]),
        ("jurisdiction", "GB-SCT", ["R-3"]),
        ("jurisdiction", "GB", ["R-1", "R-2", "R-3"]),
    ],
)
def test_each_record_filter(backend, facet, value, expected):
    index(
        backend,
        record("R-1", "Fine", category="security", decided_on=date(2023, 5, 1)),
        record("R-2", "Fine", agency="ofwat", severity="severe"),
        record("R-3", "Award", nature="commendation", jurisdiction="GB-SCT"),
    )
    results = backend.query(SearchQuery(doc_type="record", filters={facet: [value]}))
    assert sorted(h.key for h in results.hits) == expected


def _counted(docs, field):
    """The facet counts a user expects: values over the given documents, most first."""
    from collections import Counter

    counts = Counter(getattr(d, field) for d in docs)
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


@pytest.mark.parametrize("text", ["", "fine", "cookie"])  # all, most, few of the records
def test_facets_count_what_matches_whether_most_or_few_match(backend, text):
    agencies, severities = ("ico", "ofwat", "ofcom"), ("minor", "moderate", "severe")
    docs = [
        record(
            f"R-{n}",
            "Cookie banner" if n % 5 == 0 else "Fine for late returns",
            agency=agencies[n % 3],
            severity=severities[n % 2 + (n % 7 == 0)],
            nature="violation",
        )
        for n in range(30)
    ]
    index(backend, *docs)
    wanted = [d for d in docs if text.lower() in d.title.lower()]
    for filters in ({}, {"agency": ["ico"]}):
        shown = [d for d in wanted if not filters or d.agency in filters["agency"]]
        query = SearchQuery(text=text, doc_type="record", filters=filters)
        facets = backend.query(query).facets
        assert facets["agency"] == _counted(shown, "agency"), filters
        assert facets["severity"] == _counted(shown, "severity"), filters
    # A removed and an added record change the counts at once.
    added = record("R-99", "Fine and cookie", agency="ofcom")
    backend.apply(
        ChangeBatch(seq=2, upserts=(added,), removals=(("record", "R-0"), ("record", "R-1")))
    )
    after = [d for d in docs if d.key not in {"R-0", "R-1"}]
    after.append(added)
    shown = [d for d in after if text.lower() in d.title.lower()]
    facets = backend.query(SearchQuery(text=text, doc_type="record")).facets
    assert facets["agency"] == _counted(shown, "agency")
