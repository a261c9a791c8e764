"""Real controller names from GDPR fines, searched as people type them."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import date

import pytest

from search import ENGINES
from search.base import EntityDoc, RecordDoc, SearchQuery
from search.names import name_key
from tests.conftest import SHARED
from tests.search.factories import index

FINES = SHARED / "gdpr-fines" / "gdpr_fines.csv"
PLACEHOLDER = re.compile(r"^(unknown|private (individual|person))\b", re.IGNORECASE)

pytestmark = pytest.mark.skipif(not FINES.exists(), reason=f"real data set missing: {FINES}")


def _rows() -> list[dict[str, str]]:
    """The fines as published."""
    with FINES.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def controllers(rows: list[dict[str, str]]) -> list[EntityDoc]:
    """One entity per distinct name key: the commonest spelling, the others as aliases."""
    spellings: dict[str, Counter[str]] = {}
    for row in rows:
        name = row["controller_processor"].strip()
        if name and not PLACEHOLDER.match(name):
            spellings.setdefault(name_key(name) or name, Counter())[name] += 1
    docs = []
    for i, counts in enumerate(spellings.values()):
        name, *others = [n for n, _c in counts.most_common()]
        docs.append(EntityDoc(f"c{i}", name, "business", "EU", aliases=tuple(others)))
    return docs


def fines(rows: list[dict[str, str]]) -> list[RecordDoc]:
    """Each fine as a record."""
    return [
        RecordDoc(row["etid"], row["violation_type"], "c", row["controller_processor"], "dpa",
                  row["country_label"], "violation", row["violation_type_label"], "serious",
                  date(int(row["decision_year"] or 2020), 1, 1), "EU", summary=row["summary"],
                  statute=row["article"])
        for row in rows
    ]  # fmt: skip


@pytest.fixture(scope="module", params=sorted(ENGINES))
def register(request):
    """An in-memory index of every controller and fine (built once per engine)."""
    rows = _rows()
    engine = ENGINES[request.param](None)
    index(engine, *controllers(rows), *fines(rows))
    yield engine
    engine.close()


def top(register, text: str) -> str:
    """The name of the best entity found."""
    return str(register.query(SearchQuery(text=text)).hits[0].fields["name"])


def test_placeholders_are_not_entities():
    names = {doc.name for doc in controllers(_rows())}
    assert not {"Unknown", "Private Individual", "Private Person"} & names


def test_spellings_of_one_name_become_one_entity():
    vodafone = [d for d in controllers(_rows()) if d.name == "Vodafone España, S.A.U."]
    assert len(vodafone) == 1
    assert {"Vodafone España, Sau", "Vodafone España Sau"} <= set(vodafone[0].aliases)


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("vodafone espana", "Vodafone España, S.A.U."),
        ("telefonica moviles espana", "Telefónica Móviles España, S.A.U."),
        ("banco bilbao vizcaya argentaria", "Banco Bilbao Vizcaya Argentaria, S.A."),
        ("regie autonome transports parisiens", "Régie Autonome Des Transports Parisiens"),
        ("amazon europe core sarl", "Amazon Europe Core S.À.R.L."),
        ("ostre toten", "Østre Toten Municipality"),
        ("umea university", "Umeå University"),
        ("xfera moviles", "Xfera Moviles S.A."),
        ("ikea romania", "Ikea România Sa"),
        ("vodaf esp", "Vodafone España, S.A.U."),
    ],
)
def test_names_typed_plainly_are_found_first(register, typed, name):
    assert name_key(top(register, typed)) == name_key(name)


def test_a_typo_is_corrected(register):
    results = register.query(SearchQuery(text="vodafnoe espana"))
    assert (results.fuzzy, results.suggestion) == (True, "vodafone espana")
    assert results.hits[0].fields["name"] == "Vodafone España, S.A.U."


def test_a_typo_without_accents_or_legal_form_is_corrected(register):
    results = register.query(SearchQuery(text="telefonica movles"))
    assert results.fuzzy
    assert name_key(str(results.hits[0].fields["name"])) == "telefonica moviles espana sau"


def test_a_greek_name_is_found_by_a_greek_word(register):
    assert "Καπα Λαμδα" in top(register, "λαμδα ωμεγα")


def test_fines_are_found_by_their_text(register):
    results = register.query(SearchQuery(doc_type="record", text='"video surveillance"'))
    assert results.total > 10
    assert all("<mark>" in "".join(h.highlights.values()) for h in results.hits)


@pytest.mark.parametrize("year", ["2019", "2021"])
def test_facets_over_the_fines_are_the_counts_of_the_data_set(register, year):
    rows = [r for r in _rows() if (r["decision_year"] or "2020") == year]
    results = register.query(SearchQuery(doc_type="record", filters={"year": [year]}))
    assert results.total == len(rows) > 0
    expected = Counter(r["violation_type_label"] for r in rows)
    expected.pop("", None)
    assert dict(results.facets["category"]) == dict(expected)
    assert dict(results.facets["year"]) == {year: len(rows)}


def test_hostile_input_on_the_real_register_gets_results_or_a_refusal(register):
    from search.base import QueryRefused
    from tests.search.test_unsafe_input import UNSAFE

    for text in UNSAFE:
        for doc_type in ("entity", "record"):
            try:
                results = register.query(SearchQuery(text=text, doc_type=doc_type))
            except QueryRefused as refused:
                assert str(refused), text
                continue
            assert results.total >= len(results.hits), text
        assert isinstance(register.suggest(text), list)


CHARITIES = SHARED / "uk-charities" / "dual-registered-uk-charities.csv"


@pytest.fixture(scope="module", params=sorted(ENGINES))
def charities(request):
    """Charities registered in Scotland and in England and Wales, with both numbers."""
    if not CHARITIES.exists():
        pytest.skip(f"real data set missing: {CHARITIES}")
    with CHARITIES.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    engine = ENGINES[request.param](None)
    docs = [
        EntityDoc(f"ch{i}", row["org_name_b"], "social_organisation", "GB",
                  aliases=(row["org_id_a"],), registration_id=row["org_id_b"])
        for i, row in enumerate(rows)
    ]  # fmt: skip
    index(engine, *docs)
    yield engine, docs
    engine.close()


def test_charities_are_found_first_by_their_registration_number_however_typed(charities):
    engine, docs = charities
    for doc in docs[::25]:
        number = doc.registration_id
        bearers = {d.key for d in docs if d.registration_id == number}  # the data repeats some
        for typed in (number, number.lower(), number.replace("-", " ")):
            hits = engine.query(SearchQuery(text=typed)).hits
            assert {h.key for h in hits[: len(bearers)]} == bearers, (typed, doc.name)
