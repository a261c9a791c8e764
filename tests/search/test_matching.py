"""People find organisations as they type them: accents, legal forms, typos, half words."""

from __future__ import annotations

import pytest

from search.base import SearchBackend, SearchQuery
from tests.search.factories import entity, index, record


def keys(backend: SearchBackend, text: str, doc_type: str = "entity") -> list[str]:
    """Keys of the first page of results, best first."""
    results = backend.query(SearchQuery(text=text, doc_type=doc_type))  # type: ignore[arg-type]
    return [hit.key for hit in results.hits]


@pytest.mark.parametrize(
    ("name", "typed"),
    [
        ("Société Générale", "societe generale"),
        ("societe generale", "Société Générale"),
        ("ＡＣＭＥ Trading", "acme trading"),
        ("Großhandel Müller", "grosshandel muller"),
        ("Ålesund Municipality", "ALESUND municipality"),
        ("Zeta\u200bmax Holdings", "zetamax"),
        ("Zetamax Holdings", "zeta\u00admax"),
        ("\u0410cme Trading", "acme trading"),
        ("Acme Trading", "\u0410\u0441me"),
        ("Pay\u03c1al Services", "paypal"),
    ],
)
def test_accents_case_and_width_are_folded(backend, name, typed):
    """Look-alike Cyrillic and Greek letters in a Latin word, and invisible characters, too."""
    index(backend, entity(name, key="it"))
    assert keys(backend, typed) == ["it"]


@pytest.mark.parametrize(
    ("name", "typed"),
    [
        ("ACME Ltd.", "Acme Limited"),
        ("Acme Limited", "acme ltd"),
        ("Vodafone España, S.A.U.", "vodafone espana sau"),
        ("Vodafone España, Sau", "Vodafone España S.A.U."),
        ("Banco Popular, Sociedad Anónima", "banco popular s.a."),
        ("Siemens Aktiengesellschaft", "siemens ag"),
        ("Brückner GmbH", "bruckner g.m.b.h."),
        ("Pacific Holdings Inc.", "pacific holdings incorporated"),
        ("Marks & Spencer plc", "marks and spencer public limited company"),
        # Punctuation typed as spaces: the letters of a legal form are read as one form.
        ("Telefónica, S.A.", "telefonica s a"),
        ("Vodafone España, S.A.U.", "vodafone espana s a u"),
        ("Sportverein Eberswalde e.V.", "sportverein eberswalde e v"),
        ("Volvo Cars A B", "volvo cars ab"),
    ],
)
def test_legal_forms_match_in_any_spelling(backend, name, typed):
    index(backend, entity(name, key="it"))
    assert keys(backend, typed) == ["it"]


def test_single_letters_that_spell_no_legal_form_stay_words(backend):
    index(backend, entity("A B C Ltd", key="abc"), entity("I B M Services", key="ibm"))
    assert keys(backend, "a b c") == ["abc"]
    assert keys(backend, "i b m") == ["ibm"]


def test_a_legal_form_typed_but_not_registered_does_not_exclude(backend):
    index(backend, entity("Acme Trading", key="it"))
    assert keys(backend, "acme trading ltd") == ["it"]


def test_a_name_typed_without_its_legal_form_finds_it(backend):
    index(backend, entity("Telefónica Móviles España, S.A.U.", key="it"))
    assert keys(backend, "telefonica moviles espana") == ["it"]


def test_aliases_and_former_names_are_found_but_rank_below_the_name(backend):
    index(
        backend,
        entity("Meta Platforms Ireland Limited", key="meta", aliases=("Facebook Ireland",)),
        entity("Facebook Fans Club", key="fans"),
    )
    assert keys(backend, "facebook ireland") == ["meta"]
    assert keys(backend, "facebook") == ["fans", "meta"]


@pytest.mark.parametrize(
    ("registered", "typed"),
    [
        ("GB-CHC-216355", "GB-CHC-216355"),
        ("GB-CHC-216355", "gb chc 216355"),
        ("HRB 64711", "HRB 64711"),
        ("HRB 64711", "hrb64711"),
        ("65-3187657", "65-3187657"),
    ],
)
def test_registration_ids_are_found_whole(backend, registered, typed):
    index(
        backend,
        entity("Oxfam", key="it", registration_id=registered),
        entity("HRB Consulting 64711", key="other", registration_id="HRB 1"),
    )
    assert keys(backend, typed)[0] == "it"


@pytest.mark.parametrize("typed", ["vodaf", "Vodafone Esp", "vod esp"])
def test_half_typed_words_match_word_starts(backend, typed):
    index(backend, entity("Vodafone España, S.A.U.", key="it"), entity("Vox Media", key="vox"))
    assert keys(backend, typed) == ["it"]


def test_abbreviated_words_find_a_name(backend):
    index(backend, entity("Société Générale", key="it"), entity("Société Nouvelle", key="no"))
    assert keys(backend, "soc gen") == ["it"]


def test_names_starting_with_what_was_typed_come_first(backend):
    index(
        backend,
        entity("Bank of Valletta", key="later"),
        entity("Valletta Bank", key="first"),
        entity("Valletta", key="exact"),
    )
    assert keys(backend, "valletta") == ["exact", "first", "later"]


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [
        ("vodafnoe", "vodafone"),
        ("vodafone espanya", "vodafone espana"),
        ("telefonika", "telefonica"),
    ],
)
def test_typos_fall_back_to_fuzzy_with_a_did_you_mean(backend, typed, suggestion):
    index(backend, entity("Vodafone España, S.A.U.", key="v"), entity("Telefónica", key="t"))
    results = backend.query(SearchQuery(text=typed))
    assert results.fuzzy
    assert results.suggestion == suggestion
    assert [hit.key for hit in results.hits] == [suggestion[0]]


def test_exact_matches_are_not_fuzzy(backend):
    index(backend, entity("Vodafone", key="v"), entity("Vodafono", key="o"))
    results = backend.query(SearchQuery(text="vodafone"))
    assert (results.fuzzy, results.suggestion, [h.key for h in results.hits]) == (
        False,
        None,
        ["v"],
    )


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("ika", False),
        ("ikia", True),
        ("ikae", True),
        ("ikiaa", False),
        ("kingfishr", True),
        ("kingfshrr", True),
        ("kngfshrr", False),
    ],
)
def test_fuzziness_grows_with_word_length(backend, typed, found):
    # under 4 letters: exact only; 4-7 letters: one edit; 8 or more: two edits.
    index(backend, entity("IKEA", key="ikea"), entity("Kingfisher", key="kingfisher"))
    assert bool(keys(backend, typed)) is found


def test_record_text_is_stemmed(backend):
    index(backend, record("R-1", "Running an unlicensed lottery"))
    assert keys(backend, "runs", "record") == ["R-1"]


def test_names_are_not_stemmed(backend):
    index(backend, entity("Running Club", key="it"))
    assert keys(backend, "runs") == []


def test_a_quoted_phrase_matches_words_in_that_order(backend):
    index(
        backend,
        record("R-1", "Data breach at a call centre"),
        record("R-2", "Breach of data retention rules"),
    )
    assert keys(backend, '"data breach"', "record") == ["R-1"]
    assert sorted(keys(backend, "data breach", "record")) == ["R-1", "R-2"]


def test_records_are_found_by_ref_summary_statute_and_entity(backend):
    index(
        backend,
        record("R-2026-000123", "Fine", summary="Unencrypted laptops lost", statute="UK GDPR"),
    )
    for typed in ("R-2026-000123", "laptops", "gdpr", "acme"):
        assert keys(backend, typed, "record") == ["R-2026-000123"], typed


def test_other_scripts_are_searchable(backend):
    index(backend, entity("Καπα Λαμδα Ωμεγα Εταιρεια", key="it"))
    assert keys(backend, "λαμδα") == ["it"]
