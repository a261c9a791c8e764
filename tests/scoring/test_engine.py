"""Hand-worked scores under the shipped rulebooks, one rule at a time."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from scoring import RecordFacts, Rulebook, score
from tests.scoring.factories import (
    AS_OF,
    BUSINESS,
    DEFAULT,
    GB,
    RECENT,
    US_CA,
    commendation,
    violation,
)


def value_of(
    records: list[RecordFacts], rulebook: Rulebook = DEFAULT, as_of: date = AS_OF
) -> float:
    """Score a business under ``rulebook`` and return its value."""
    return score(BUSINESS, records, rulebook, as_of).value


def test_no_records_scores_the_baseline() -> None:
    result = score(BUSINESS, [], DEFAULT, AS_OF)
    assert (result.value, result.band, result.contributions) == (100.0, "A", ())
    assert (result.rulebook_id, result.rulebook_version) == ("default", "2026.1")


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("minor", 98.0), ("moderate", 95.0), ("serious", 88.0), ("severe", 75.0)],
)
def test_each_severity_deducts_its_points(severity: str, expected: float) -> None:
    assert value_of([violation(severity=severity)]) == expected


@pytest.mark.parametrize(
    ("rulebook", "category", "severity", "expected"),
    [
        (GB, "environment", "serious", 82.0),  # 12 × 1.5
        (GB, "data_protection", "moderate", 94.0),  # 5 × 1.2
        (GB, "food_safety", "moderate", 95.0),  # not listed: 1.0
        (US_CA, "environment", "severe", 50.0),  # 25 × 2.0
        (US_CA, "workplace_safety", "serious", 84.4),  # 12 × 1.3
        (DEFAULT, "environment", "serious", 88.0),
    ],
)
def test_category_weight_multiplies(
    rulebook: Rulebook, category: str, severity: str, expected: float
) -> None:
    records = [violation(category=category, severity=severity)]
    assert value_of(records, rulebook) == expected


# A moderate violation decided 2024-01-01 counts until 2026-01-01 (731 days): full weight
# for 365 days, until 2024-12-31, then down over the remaining 366 days.
@pytest.mark.parametrize(
    ("as_of", "age", "expected"),
    [
        (date(2024, 1, 1), 1.0, 95.0),
        (date(2024, 12, 30), 1.0, 95.0),
        (date(2024, 12, 31), 1.0, 95.0),
        (date(2025, 1, 1), 365 / 366, 95.01),
        (date(2025, 7, 2), 0.5, 97.5),  # about 1.5 years old: half way down
        (date(2025, 12, 31), 1 / 366, 99.99),
        (date(2026, 1, 1), 0.0, 100.0),
        (date(2030, 1, 1), 0.0, 100.0),
    ],
)
def test_age_full_weight_then_linear_then_zero(as_of: date, age: float, expected: float) -> None:
    result = score(BUSINESS, [violation(decided_on=date(2024, 1, 1))], DEFAULT, as_of)
    (part,) = result.contributions
    assert part.factors_dict()["age"] == pytest.approx(age)
    assert part.full_weight_until == date(2024, 12, 31)
    assert part.counts_until == date(2026, 1, 1)
    assert result.value == expected


def test_expired_record_is_listed_with_zero_points() -> None:
    result = score(BUSINESS, [violation(decided_on=date(2024, 1, 1))], DEFAULT, date(2026, 1, 1))
    (part,) = result.contributions
    assert (part.state, part.points, part.remediation_would_restore) == ("expired", 0.0, None)


def test_leap_day_counts_until_28_february() -> None:
    result = score(
        BUSINESS,
        [violation(decided_on=date(2024, 2, 29), severity="minor")],
        DEFAULT,
        date(2024, 3, 1),
    )
    (part,) = result.contributions
    assert part.counts_until == date(2025, 2, 28)
    assert part.full_weight_until == date(2024, 8, 29)  # 365 days // 2 = 182


def test_repeat_in_same_category_within_window() -> None:
    records = [
        violation("R-1", category="environment", severity="serious", decided_on=date(2026, 1, 5)),
        violation("R-2", category="environment", decided_on=RECENT),
    ]
    result = score(BUSINESS, records, DEFAULT, AS_OF)
    assert result.value == 80.5  # 100 − 12 − 5 × 1.5
    assert [c.factors_dict()["repeat"] for c in result.contributions] == [1.5, 1.0]


def earlier(decided_on: date = date(2025, 6, 1), **overrides: object) -> RecordFacts:
    """Build the earlier environment violation of a repeat case."""
    facts: dict[str, object] = {"category": "environment", "decided_on": decided_on}
    return violation("R-0", **(facts | overrides))


@pytest.mark.parametrize(
    ("first", "repeat"),
    [
        (earlier(date(2023, 6, 1)), 1.5),  # exactly repeat.window_years before
        (earlier(date(2023, 5, 31)), 1.0),
        (earlier(category="food_safety"), 1.0),
        (earlier(status="under_appeal"), 1.0),
        (earlier(status="withdrawn"), 1.0),
        (earlier(status="overturned"), 1.0),
        (earlier(published_on=date(2026, 6, 2)), 1.0),
        (earlier(nature="commendation"), 1.0),
    ],
    ids=[
        "window-edge",
        "just-outside",
        "other-category",
        "under-appeal",
        "withdrawn",
        "overturned",
        "published-after-as-of",
        "commendation",
    ],
)
def test_repeat_needs_an_earlier_standing_violation(first: RecordFacts, repeat: float) -> None:
    later = violation("R-9", category="environment", decided_on=AS_OF)
    result = score(BUSINESS, [later, first], DEFAULT, AS_OF)
    part = next(c for c in result.contributions if c.record == "R-9")
    assert part.factors_dict()["repeat"] == repeat
    assert part.points == -5.0 * repeat


def test_repeat_on_the_same_day_goes_by_ref() -> None:
    records = [violation("R-B"), violation("R-A")]
    parts = {
        c.record: c.factors_dict()["repeat"]
        for c in score(BUSINESS, records, DEFAULT, AS_OF).contributions
    }
    assert parts == {"R-A": 1.0, "R-B": 1.5}


@pytest.mark.parametrize(
    ("remediated_on", "expected", "restore"),
    [
        (date(2026, 5, 20), 94.0, None),
        (AS_OF, 94.0, None),
        (date(2026, 6, 2), 88.0, 6.0),
        (None, 88.0, 6.0),
    ],
)
def test_remediation_halves_from_its_date(
    remediated_on: date | None, expected: float, restore: float | None
) -> None:
    record = violation(severity="serious", remediated_on=remediated_on)
    result = score(BUSINESS, [record], DEFAULT, AS_OF)
    assert result.value == expected
    assert result.contributions[0].remediation_would_restore == restore


def test_remediation_would_restore_follows_every_factor() -> None:
    records = [
        violation("R-1", category="environment", severity="serious", decided_on=date(2026, 1, 5)),
        violation("R-2", category="environment", severity="serious"),
    ]
    result = score(BUSINESS, records, GB, AS_OF)
    latest = result.contributions[0]
    assert latest.points == -27.0  # 12 × 1.5 (GB environment) × 1.5 (repeat)
    assert latest.remediation_would_restore == 13.5


def test_remediation_would_restore_of_a_fading_record() -> None:
    result = score(BUSINESS, [violation(decided_on=date(2024, 1, 1))], DEFAULT, date(2025, 7, 2))
    assert result.contributions[0].remediation_would_restore == 1.25  # 2.5 × (1 − 0.5)


def test_under_appeal_is_listed_at_zero() -> None:
    result = score(BUSINESS, [violation(status="under_appeal", severity="severe")], DEFAULT, AS_OF)
    (part,) = result.contributions
    assert result.value == 100.0
    assert (part.state, part.points, part.remediation_would_restore) == ("under_appeal", 0.0, None)


@pytest.mark.parametrize(
    "status", ["draft", "submitted", "approved", "overturned", "withdrawn", "amended"]
)
def test_other_statuses_are_ignored(status: str) -> None:
    result = score(BUSINESS, [violation(status=status)], DEFAULT, AS_OF)
    assert (result.value, result.contributions) == (100.0, ())


@pytest.mark.parametrize(
    "record",
    [
        violation(decided_on=date(2026, 6, 2)),
        violation(published_on=date(2026, 6, 2)),
        commendation(decided_on=date(2026, 6, 2)),
    ],
)
def test_records_from_after_as_of_are_ignored(record: RecordFacts) -> None:
    assert score(BUSINESS, [record], DEFAULT, AS_OF).contributions == ()


def test_published_on_as_of_counts() -> None:
    assert value_of([violation(published_on=AS_OF)]) == 95.0


def test_commendation_adds_for_its_whole_period() -> None:
    award = commendation(decided_on=date(2024, 6, 2))  # counts until 2026-06-02
    result = score(BUSINESS, [award], DEFAULT, AS_OF)
    (part,) = result.contributions
    assert result.value == 105.0
    assert part.factors_dict() == {"category_weight": 1.0, "age": 1.0}
    assert part.full_weight_until == part.counts_until == date(2026, 6, 2)
    assert value_of([award], as_of=date(2026, 6, 2)) == 100.0


def test_credits_are_capped() -> None:
    awards = [commendation(f"C-{i}", severity="severe") for i in range(3)]
    result = score(BUSINESS, awards, DEFAULT, AS_OF)
    assert (result.credits, result.credits_capped, result.value) == (75.0, 20.0, 120.0)


def test_older_default_caps_credits_at_15() -> None:
    from tests.scoring.factories import DEFAULT_2020

    awards = [commendation(f"C-{i}", severity="severe") for i in range(3)]
    assert value_of(awards, DEFAULT_2020) == 115.0


def test_clamped_at_the_ceiling() -> None:
    low_ceiling = replace(DEFAULT, ceiling=110.0)
    result = score(BUSINESS, [commendation(severity="severe")], low_ceiling, AS_OF)
    assert (result.value, result.unclamped) == (110.0, 120.0)


def test_clamped_at_the_floor() -> None:
    categories = [
        "environment",
        "food_safety",
        "data_protection",
        "transparency",
        "workplace_safety",
    ]
    records = [violation(f"R-{c}", category=c, severity="severe") for c in categories]
    result = score(BUSINESS, records, DEFAULT, AS_OF)
    assert (result.value, result.unclamped, result.deductions) == (0.0, -25.0, 125.0)
    assert (result.band, result.watchlist) == ("E", True)


def test_contributions_sorted_newest_first_then_ref() -> None:
    records = [
        violation("R-2", decided_on=date(2026, 1, 1)),
        violation("R-3"),
        commendation("C-1", decided_on=date(2026, 1, 1)),
        violation("R-1"),
    ]
    refs = [c.record for c in score(BUSINESS, records, DEFAULT, AS_OF).contributions]
    assert refs == ["R-1", "R-3", "C-1", "R-2"]


def test_points_are_signed_and_rounded() -> None:
    records = [violation(decided_on=date(2024, 1, 1)), commendation()]
    parts = score(BUSINESS, records, DEFAULT, date(2025, 1, 1)).contributions
    assert [(c.nature, c.points) for c in parts] == [("violation", -4.99)]  # award not yet
    result = score(
        BUSINESS,
        [*records, commendation("C-2", decided_on=date(2024, 6, 1))],
        DEFAULT,
        date(2025, 1, 1),
    )
    assert [c.points for c in result.contributions] == [5.0, -4.99]


def test_violation_factor_names() -> None:
    (part,) = score(BUSINESS, [violation()], DEFAULT, AS_OF).contributions
    assert list(part.factors_dict()) == ["category_weight", "repeat", "remediation", "age"]


def test_to_dict_has_the_stable_keys_and_is_json() -> None:
    result = score(BUSINESS, [violation(), commendation()], GB, AS_OF)
    data = result.to_dict()
    assert {
        "value",
        "band",
        "band_label",
        "trusted",
        "watchlist",
        "rulebook",
        "as_of",
        "contributions",
    } <= set(data)
    assert data["rulebook"] == {"id": "GB", "version": "2024.1"}
    assert data["as_of"] == "2026-06-01"
    assert set(data["contributions"][0]) >= {
        "record",
        "nature",
        "category",
        "severity",
        "base_points",
        "factors",
        "points",
        "counts_until",
        "state",
        "full_weight_until",
        "remediation_would_restore",
    }
    assert data["contributions"][1]["counts_until"] == "2028-05-01"
    assert json.loads(json.dumps(data)) == data


def test_unknown_severity_or_nature_is_refused() -> None:
    with pytest.raises(ValueError, match="severity"):
        violation(severity="catastrophic")
    with pytest.raises(ValueError, match="nature"):
        violation(nature="rumour")
