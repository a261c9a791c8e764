"""Bands, the trusted and watchlist flags, and officials leaving public view."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from scoring import EntityFacts, RecordFacts, is_public, score
from tests.scoring.factories import AS_OF, BUSINESS, DEFAULT, commendation, violation


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (120, "A"),
        (90, "A"),
        (89.99, "B"),
        (75, "B"),
        (74.99, "C"),
        (60, "C"),
        (59.99, "D"),
        (40, "D"),
        (39.99, "E"),
        (0, "E"),
    ],
)
def test_band_boundaries(value: float, band: str) -> None:
    assert DEFAULT.band_for(value).code == band
    result = score(BUSINESS, [], replace(DEFAULT, baseline=value), AS_OF)
    assert (result.band, result.watchlist) == (band, band == "E")


def test_band_labels() -> None:
    assert score(BUSINESS, [violation(severity="severe")], DEFAULT, AS_OF).band_label == (
        "Some concerns"
    )


@pytest.mark.parametrize(
    ("records", "trusted"),
    [
        ([commendation(severity="moderate")], True),  # exactly 105
        ([commendation(severity="minor")], False),  # 102
        ([commendation(severity="severe"), violation(severity="minor")], False),  # 118, recent
        (
            [commendation(severity="severe"), violation(severity="minor", status="under_appeal")],
            True,
        ),
        (
            [
                commendation(severity="severe"),
                violation(decided_on=date(2023, 5, 1), severity="minor"),
            ],
            True,
        ),  # expired
    ],
)
def test_trusted(records: list[RecordFacts], trusted: bool) -> None:
    assert score(BUSINESS, records, DEFAULT, AS_OF).trusted is trusted


@pytest.mark.parametrize(
    ("decided_on", "trusted"), [(date(2025, 5, 31), True), (date(2025, 6, 1), False)]
)
def test_trusted_clean_years_window(decided_on: date, trusted: bool) -> None:
    one_year = replace(DEFAULT, trusted_clean_years=1)
    records = [commendation(severity="severe"), violation(decided_on=decided_on)]
    result = score(BUSINESS, records, one_year, AS_OF)
    assert result.value >= 105
    assert result.trusted is trusted


OFFICIAL = EntityFacts("official", "DE", term_end=date(2021, 6, 1))


@pytest.mark.parametrize(("as_of", "public"), [(date(2026, 6, 1), True), (date(2026, 6, 2), False)])
def test_officials_leave_public_view_after_term(as_of: date, public: bool) -> None:
    record = violation(decided_on=date(2021, 5, 1), severity="severe")
    result = score(OFFICIAL, [record], DEFAULT, as_of)
    assert is_public(OFFICIAL, DEFAULT, as_of) is public
    assert len(result.contributions) == (1 if public else 0)
    if not public:
        assert result.value == 100.0


def test_officials_in_office_and_organisations_stay_public() -> None:
    far = date(2099, 1, 1)
    assert is_public(EntityFacts("official", "DE"), DEFAULT, far)
    assert is_public(EntityFacts("business", "DE", term_end=date(2000, 1, 1)), DEFAULT, far)
