"""whoosh ranks a very large set of matching records by where the words are, newest first.

Scoring every match by BM25 in Python cost 0.8 s for 400,000 records; above
`BM25_MAX_RECORDS` the ranking is made of set operations instead. The limit is
lowered here so that a handful of records shows it.
"""

from __future__ import annotations

from datetime import date

import pytest

from search.base import SearchQuery
from search.engines.whoosh import searching
from search.engines.whoosh.backend import WhooshBackend
from tests.search.factories import index, record


@pytest.fixture
def large(monkeypatch):
    monkeypatch.setattr(searching, "BM25_MAX_RECORDS", 2)
    backend = WhooshBackend(None)
    index(
        backend,
        record(
            "summary-old", "Notice", summary="Unlawful marketing calls", decided_on=date(2020, 1, 1)
        ),
        record(
            "summary-new", "Notice", summary="Unlawful marketing calls", decided_on=date(2024, 1, 1)
        ),
        record("name", "Notice", entity_name="Marketing Direct Ltd", decided_on=date(2023, 1, 1)),
        record("title-old", "Marketing calls fine", decided_on=date(2019, 1, 1)),
        record("title-new", "Marketing calls fine", decided_on=date(2022, 1, 1)),
        record("two-words", "Marketing calls to the elderly", decided_on=date(2018, 1, 1)),
        record("other", "Cookie banner", decided_on=date(2025, 1, 1)),
    )
    yield backend
    backend.close()


def keys(backend, text, **kwargs):
    return [h.key for h in backend.query(SearchQuery(text=text, doc_type="record", **kwargs)).hits]


def test_title_then_entity_name_then_the_rest_newest_first(large):
    assert keys(large, "marketing") == [
        "title-new", "title-old", "two-words", "name", "summary-new", "summary-old",
    ]  # fmt: skip


def test_more_of_the_typed_words_in_the_title_rank_first(large):
    # "calls" is in the summaries too; "elderly" only in one title.
    assert keys(large, "marketing elderly") == ["two-words"]
    assert keys(large, "marketing calls")[:3] == ["title-new", "title-old", "two-words"]


def test_pages_follow_on_and_the_total_counts_every_match(large):
    first = large.query(SearchQuery(text="marketing", doc_type="record", per_page=4))
    second = large.query(SearchQuery(text="marketing", doc_type="record", per_page=4, page=2))
    assert first.total == second.total == 6
    assert [h.key for h in first.hits + second.hits] == keys(large, "marketing")


def test_a_typo_is_ranked_the_same_way_and_suggests_the_word(large):
    results = large.query(SearchQuery(text="marketng", doc_type="record"))
    assert results.fuzzy and results.suggestion == "marketing"
    assert [h.key for h in results.hits] == keys(large, "marketing")


def test_below_the_limit_records_are_ranked_by_bm25(large, monkeypatch):
    monkeypatch.setattr(searching, "BM25_MAX_RECORDS", 100)
    ranked = large.query(SearchQuery(text="marketing", doc_type="record")).hits
    assert {h.key for h in ranked} == set(keys(large, "marketing"))
    assert all(h.relevance > 0 for h in ranked) and ranked[0].relevance != 20.0
