"""What only the tantivy engine needs proving: it answers as whoosh does, and its own parts."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest
import tantivy
from hypothesis import given
from hypothesis import strategies as st

from search.base import EntityDoc, SearchQuery
from search.engines.tantivy.backend import TantivyBackend, _commit
from search.engines.tantivy.schema import CODES, META_UID, _codes, _descending
from search.engines.whoosh.backend import WhooshBackend
from search.names import name_spans
from tests.search.factories import entity, index
from tests.search.test_real_data import FINES, _rows, controllers, fines


@pytest.fixture(scope="module")
def both():
    """The real fines in a whoosh and a tantivy index, in memory (built once)."""
    if not FINES.exists():
        pytest.skip(f"real data set missing: {FINES}")
    rows = _rows()
    docs = [*controllers(rows), *fines(rows)]
    engines = (index(WhooshBackend(None), *docs), index(TantivyBackend(None), *docs))
    yield engines, docs
    for engine in engines:
        engine.close()


def _typed(docs: list, count: int) -> list[str]:
    """What people type for real names: whole, two words, word starts, a swapped pair."""
    rng = random.Random(5)
    names = [d.name for d in docs if isinstance(d, EntityDoc)]
    out = ["vodafnoe espana", "telefonica movles", "bank", "a", "ltd", "sa", "gdpr"]
    for name in rng.sample(names, count):
        words = [t for t, _s, _e in name_spans(name)] or ["x"]
        longest = max(words, key=len)
        swap = longest[:1] + longest[2:3] + longest[1:2] + longest[3:]
        out += [name, " ".join(words[:2]), words[0][:3], swap]
    return out


def _entity_answer(results) -> tuple:
    """Everything an entity search shows."""
    hits = [(h.key, h.relevance, dict(h.highlights)) for h in results.hits]
    return hits, results.total, results.facets, results.suggestion, results.fuzzy


@pytest.mark.parametrize("sort", ["relevance", "score"])
def test_entities_are_found_ranked_and_marked_as_whoosh_does(both, sort):
    (whoosh, tantivy), docs = both
    for text in _typed(docs, 40):
        query = SearchQuery(text=text, sort=sort)
        assert _entity_answer(tantivy.query(query)) == _entity_answer(whoosh.query(query)), text


def test_records_are_found_and_counted_as_whoosh_does(both):
    # Ranking may differ: BM25 in each engine, and ties (one decision date) keep index order.
    (whoosh, tantivy), docs = both
    for text in _typed(docs, 15) + ['"video surveillance"', "R-2026-000123", "consent"]:
        query = SearchQuery(text=text, doc_type="record")
        ours, theirs = tantivy.query(query), whoosh.query(query)
        assert (ours.total, ours.facets, ours.fuzzy) == (theirs.total, theirs.facets, theirs.fuzzy)
        if theirs.total <= 20:
            assert {h.key for h in ours.hits} == {h.key for h in theirs.hits}, text


def test_suggestions_are_those_of_whoosh(both):
    (whoosh, tantivy), _docs = both
    for typed in ("vod", "bank of", "a", "ikea r", "telefonica m", "z"):
        assert tantivy.suggest(typed) == whoosh.suggest(typed), typed


FAMILIES = {
    # Sort keys are held as four 8-byte numbers: these tie on all four, or on the first only.
    "long": "Department for Environment Food and Rural Affairs Regional Unit {:02d}",
    "short": "Valletta {:02d} Bank",
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("text", ["department valletta", ""])
def test_names_tied_on_their_sort_numbers_still_come_in_name_order(family, text):
    backend = TantivyBackend(None)
    names = [FAMILIES[family].format(n) for n in range(70)]
    shuffled = random.Random(3).sample(names, len(names))
    index(backend, *(entity(name, key=f"k{i}") for i, name in enumerate(shuffled)))
    text = text.split()[family == "short"] if text else ""
    pages = [backend.query(SearchQuery(text=text, page=p, per_page=20)) for p in (1, 2, 3, 4)]
    assert [h.fields["name"] for p in pages for h in p.hits] == names
    backend.close()


def test_typos_keep_the_first_letter_as_whoosh_does(backend):
    index(backend, entity("Vodafone", key="v"))
    found = [bool(backend.query(SearchQuery(text=t)).total) for t in ("vodafnoe", "bodafone")]
    assert found == [True, False]


@given(st.binary(max_size=40), st.binary(max_size=40))
def test_codes_sort_as_the_bytes_they_hold(a, b):
    if a < b:
        assert _codes(a) <= _codes(b)
    assert len(_codes(a)) == CODES


@given(st.floats(allow_nan=False), st.floats(allow_nan=False))
def test_descending_bytes_sort_floats_largest_first(a, b):
    if a > b:
        assert _descending(a) < _descending(b)


def test_another_backend_sees_a_write_at_once(tmp_path: Path):
    writer, reader = TantivyBackend(tmp_path / "ix"), TantivyBackend(tmp_path / "ix")
    assert reader.count() == 0
    index(writer, entity("Acme", key="a"), seq=4)
    assert (reader.last_seq(), [h.key for h in reader.query(SearchQuery(text="acme")).hits]) == (
        4,
        ["a"],
    )
    writer.close()
    reader.close()


def test_an_index_of_another_schema_version_reopens_empty(tmp_path: Path, caplog):
    backend = TantivyBackend(tmp_path / "ix")
    index(backend, entity("Acme", key="a"), seq=3)
    old = tantivy.Document()
    old.add_text("uid", META_UID)
    old.add_text("doc_type", "meta")
    old.add_bytes("data", b'{"seq": 3, "schema": 0}')
    _commit(backend._read(lambda view: view.index), [META_UID], [old])
    backend.close()
    with caplog.at_level(logging.WARNING, logger="search"):
        again = TantivyBackend(tmp_path / "ix")
    assert (again.last_seq(), again.count()) == (0, 0)
    assert "another schema version" in caplog.text
    again.close()
