"""Typeahead: entities whose name or alias words start with what has been typed."""

from __future__ import annotations

from search.base import Suggestion
from tests.search.factories import entity, index, record


def test_suggestions_carry_what_the_list_shows(backend):
    index(backend, entity("Vodafone España, S.A.U.", key="v", jurisdiction="ES"))
    assert backend.suggest("vodaf") == [
        Suggestion("v", "Vodafone España, S.A.U.", "business", "ES")
    ]


def test_names_starting_with_the_text_come_first(backend):
    index(
        backend,
        entity("Allied Bank of Valletta", key="c"),
        entity("Bank of Valletta", key="a"),
        entity("Bank of Valletta Holdings", key="b"),
    )
    assert [s.key for s in backend.suggest("bank of vall")] == ["a", "b", "c"]


def test_aliases_are_suggested(backend):
    index(backend, entity("Meta Platforms", key="m", aliases=("Facebook Inc",)))
    assert [s.key for s in backend.suggest("faceb")] == ["m"]


def test_one_letter_suggests_names_starting_with_it(backend):
    index(backend, entity("Zeta", key="z"), entity("Alpha Zulu", key="a"))
    assert [s.key for s in backend.suggest("z")] == ["z"]


def test_suggestions_respect_the_limit_and_skip_records(backend):
    index(backend, *(entity(f"Acme {i}", key=f"a{i}") for i in range(5)), record("R-1", "Acme"))
    assert len(backend.suggest("acme", limit=3)) == 3
    assert all(s.key != "R-1" for s in backend.suggest("acme"))


def test_nothing_typed_suggests_nothing(backend):
    index(backend, entity("Acme"))
    assert backend.suggest("") == [] == backend.suggest("  ") == backend.suggest("acme", limit=0)
