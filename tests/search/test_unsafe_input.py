"""Whatever people type, the answer is results or a clear refusal, never another error."""

from __future__ import annotations

import pytest

from search.base import MAX_QUERY_LENGTH, QueryRefused, SearchQuery
from tests.search.factories import entity, index, record

UNSAFE = [
    '"unbalanced quote',
    'acme "',
    '"',
    "acme AND OR NOT",
    "NOT acme",
    "AND",
    "*",
    "acme*",
    "ac?me",
    "?",
    "name:foo",
    "doc_type:record",
    "kind:business acme",
    "((((",
    "acme))",
    "acme~",
    "acme~2",
    "acme^10",
    "[a TO z]",
    "{}<>\\/|!+-=&&||",
    "😀🔥",
    "acme 😀",
    "acme\x00ltd",
    "\x00",
    "\u202eemca\u202c",
    "\u200b\ufeff",
    "Ａｃｍｅ",
    "'; DROP TABLE entity; --",
    "%s %n {0}",
    " " * 50,
    "a " * 99,
    "x" * MAX_QUERY_LENGTH,
]


@pytest.fixture
def filled(backend):
    """A small index with both document types."""
    return index(backend, entity("Acme Ltd", key="acme"), record("R-1", "Acme fined"))


@pytest.mark.parametrize("text", UNSAFE)
@pytest.mark.parametrize("doc_type", ["entity", "record"])
def test_odd_input_gets_results_or_a_refusal(filled, text, doc_type):
    try:
        results = filled.query(SearchQuery(text=text, doc_type=doc_type))
    except QueryRefused as refused:
        assert str(refused)
        return
    assert results.total >= len(results.hits)


@pytest.mark.parametrize("text", UNSAFE)
def test_odd_input_to_typeahead_gives_a_list(filled, text):
    assert isinstance(filled.suggest(text), list)


@pytest.mark.parametrize("text", ["x" * (MAX_QUERY_LENGTH + 1), "acme " * 2048])
def test_long_queries_are_refused(filled, text):
    with pytest.raises(QueryRefused, match="200 characters"):
        filled.query(SearchQuery(text=text))


@pytest.mark.parametrize("text", ["*acme", "acme ?cme", '"*acme"', "(*acme)"])
def test_leading_wildcards_are_refused(filled, text):
    with pytest.raises(QueryRefused, match="Searches cannot start with a wildcard."):
        filled.query(SearchQuery(text=text))


@pytest.mark.parametrize(
    "text", ["acme*", "ac?me", "acme AND ltd", "name:acme", "acme^2", "acme~", "(acme)", "acme OR"]
)
def test_operators_are_ignored_or_read_as_words(filled, text):
    assert [h.key for h in filled.query(SearchQuery(text=text)).hits] == ["acme"]


def test_field_syntax_cannot_reach_other_fields(filled):
    assert filled.query(SearchQuery(text="doc_type:record")).total == 0


def test_input_with_nothing_searchable_finds_nothing(filled):
    assert filled.query(SearchQuery(text="😀 !!")).total == 0


def test_long_input_for_typeahead_is_empty(filled):
    assert filled.suggest("acme " * 2048) == []
