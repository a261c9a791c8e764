"""The engine-free rules: reading user text, name tokens with offsets, corrections."""

from __future__ import annotations

import csv

import pytest

from search.base import MAX_TERMS, QueryRefused
from search.documents import jurisdiction_path
from search.names import fold, name_key, name_spans, name_tokens
from search.query import (
    corrected,
    edit_distance,
    fuzz_distance,
    ident_form,
    parse_query,
    transpositions,
)
from search.ranking import rank, tiered
from tests.conftest import SHARED

FINES = SHARED / "gdpr-fines" / "gdpr_fines.csv"


def test_fold_keeps_its_behaviour():
    assert fold("Ｓociété ＧÉNÉRALE Straße") == "societe generale strasse"
    assert name_key("ACME Ltd.") == name_key("Acme Limited") == "acme ltd"


def test_look_alikes_fold_only_inside_a_latin_word():
    assert fold("\u0410cme") == "acme"
    assert fold("\u0413\u0430\u0437\u043f\u0440\u043e\u043c") == "газпром"
    assert [w for w, _s, _e in name_spans("Ва\u0441k \u0421\u043e\u043a")] == ["back", "сок"]


@pytest.mark.parametrize(
    "name",
    ["Vodafone España, S.A.U.", "Marks & Spencer plc", "Banco X Sociedad Anónima Unipersonal",
     "O'Brien's Café Ltd.", "ＡＣＭＥ", "a\x00b", "S.À.R.L.", "St. John's Co."],
)  # fmt: skip
def test_name_spans_give_the_name_tokens_and_where_each_is(name):
    spans = name_spans(name)
    assert [token for token, _s, _e in spans] == name_tokens(name)
    for token, start, end in spans:
        assert name_tokens(name[start:end]) == [token]


def test_name_spans_agree_with_name_tokens_on_real_names():
    if not FINES.exists():
        pytest.skip(f"real data set missing: {FINES}")
    with FINES.open(encoding="utf-8") as handle:
        names = {row["controller_processor"] for row in csv.DictReader(handle)}
    latin = [n for n in names if fold(n).isascii()]
    assert len(latin) > 500
    assert [n for n in latin if [t for t, _s, _e in name_spans(n)] != name_tokens(n)] == []


def test_name_spans_keep_other_scripts():
    assert [t for t, _s, _e in name_spans("Καπα Λαμδα Œuvre")] == ["καπα", "λαμδα", "oeuvre"]


def test_plain_words_become_terms():
    parsed = parse_query("  Société  Générale S.A. ")
    assert (parsed.terms, parsed.phrases) == (("societe", "generale", "sa"), ())
    assert parsed.required() == ("societe", "generale") and parsed.optional() == ("sa",)


def test_quoted_text_becomes_a_phrase_and_one_quoted_word_a_term():
    parsed = parse_query('"data breach" fine "acme"')
    assert (parsed.terms, parsed.phrases) == (("fine", "acme"), (("data", "breach"),))


def test_an_unbalanced_quote_is_ignored():
    assert parse_query('"data breach').terms == ("data", "breach")


def test_operators_are_dropped():
    assert parse_query("acme AND (ltd OR plc) NOT name:x^2 y~1 z*").terms == (
        "acme", "ltd", "plc", "x", "y", "z")  # fmt: skip


def test_connecting_words_only_are_required_when_alone():
    assert parse_query("the ltd").required() == ("the", "ltd")


def test_terms_are_capped():
    parsed = parse_query(" ".join(f"w{i}" for i in range(30)))
    assert len(parsed.terms) == MAX_TERMS


def test_the_whole_text_is_also_read_as_an_id():
    assert parse_query("GB-CHC-216355").ident == "gbchc216355" == ident_form("gb chc 216355")


@pytest.mark.parametrize("text", ["", "   ", "😀", "\x00\u202e"])
def test_nothing_searchable(text):
    parsed = parse_query(text)
    assert parsed.empty and parsed.typed == bool(text.strip())


def test_a_leading_wildcard_is_refused():
    with pytest.raises(QueryRefused, match="wildcard"):
        parse_query("*acme")


@pytest.mark.parametrize(("word", "edits"), [("abc", 0), ("abcd", 1), ("abcdefg", 1),
                                             ("abcdefgh", 2)])  # fmt: skip
def test_fuzz_distance(word, edits):
    assert fuzz_distance(word) == edits


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("vodafone", "vodafnoe", 1), ("abcd", "badc", 2), ("", "abc", 3), ("abc", "abc", 0)],
)
def test_edit_distance_counts_a_swap_as_one(a, b, distance):
    assert edit_distance(a, b) == distance


def test_corrected_replaces_unknown_words_only():
    vocabulary = ["vodafone", "espana", "sau"]
    assert corrected(("vodafnoe", "esp"), vocabulary) == "vodafone esp"
    assert corrected(("vodafone",), vocabulary) is None


def test_jurisdiction_path():
    assert jurisdiction_path("gb-wls") == "GB GB-WLS"
    assert jurisdiction_path("FR") == "FR"


def test_rank_orders_by_tier_then_shorter_name():
    names = [b"b long name", b"a", b"b", b"c"]
    ranked = rank({0, 1, 2, 3}, [[{3}], [{0, 2}, {0}]], names, depth=3)
    assert [d for d, _s in ranked] == [3, 0, 2]
    assert ranked[0][1] > ranked[1][1] > ranked[2][1] > 0


def test_transpositions_swap_neighbours_after_the_first_letter():
    assert transpositions("acme") == ["amce", "acem"]
    assert transpositions("aab") == ["aba"]


def test_tiered_orders_by_counts_per_tier_then_the_given_order():
    # tier 1: two words in the title; tier 2: the entity's name. Within a group: highest first.
    title_word_1, title_word_2, name = {1, 2, 3}, {2, 3, 4}, {1, 4, 5}
    tiers = [[title_word_1, title_word_2], [name]]

    def first(docs, n):
        return sorted(docs, reverse=True)[:n]

    ranked = tiered({1, 2, 3, 4, 5, 6}, tiers, 10, first)
    # Both title words: 3, 2. One, each with the name: 4, 1 in first()'s order. None: 5
    # (with the name) before 6.
    assert [d for d, _s in ranked] == [3, 2, 4, 1, 5, 6]
    assert [s for _d, s in ranked] == [20.0, 20.0, 11.0, 11.0, 1.0, 0.0]
    assert tiered({1, 2, 3, 4, 5, 6}, tiers, 2, first) == ranked[:2]


def test_tiered_orders_only_the_groups_a_page_reaches():
    calls = []

    def first(docs, n):
        calls.append(set(docs))
        return sorted(docs)[:n]

    ranked = tiered(set(range(100)), [[{7}]], 1, first)
    assert ranked == [(7, 1.0)] and calls == [{7}]
    assert tiered(set(), [[{7}]], 5, first) == [] and tiered({1}, [[{7}]], 0, first) == []


def test_searchable_fields_keep_the_first_of_a_repeated_uid_unless_told_unique():
    from search.documents import searchable_fields
    from tests.search.factories import entity

    docs = [entity("First", key="a"), entity("Second", key="a"), entity("Other", key="b")]
    assert [f["name"] for f in searchable_fields(iter(docs))] == ["First", "Other"]

    class Promised(list):
        unique = True

    assert len(list(searchable_fields(Promised(docs)))) == 3  # trusted, not tracked
