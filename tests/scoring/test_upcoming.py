"""What changes next: the dates a record starts to fade or stops counting."""

from __future__ import annotations

from datetime import date

from scoring import EntityFacts, ScoreChange, score, upcoming_changes
from tests.scoring.factories import AS_OF, BUSINESS, DEFAULT, commendation, violation

# Moderate, decided 2026-01-01: counts until 2028-01-01 (730 days), full weight for 365 days.
FADING = violation("R-1", decided_on=date(2026, 1, 1))
# Minor award, decided 2026-03-01: counts (in full) until 2028-03-01.
AWARD = commendation("C-1", severity="minor", decided_on=date(2026, 3, 1))


def test_a_violation_fades_then_stops() -> None:
    changes = upcoming_changes(BUSINESS, [FADING], DEFAULT, AS_OF)
    assert changes == (
        ScoreChange(date(2027, 1, 1), 95.0, "A", "R-1", "starts to fade"),
        ScoreChange(date(2028, 1, 1), 100.0, "A", "R-1", "stops counting"),
    )


def test_changes_sorted_by_date_with_score_then() -> None:
    changes = upcoming_changes(BUSINESS, [AWARD, FADING], DEFAULT, AS_OF)
    assert [(c.on, c.value, c.record, c.reason) for c in changes] == [
        (date(2027, 1, 1), 97.0, "R-1", "starts to fade"),
        (date(2028, 1, 1), 102.0, "R-1", "stops counting"),
        (date(2028, 3, 1), 100.0, "C-1", "stops counting"),
    ]


def test_limit_keeps_the_soonest() -> None:
    changes = upcoming_changes(BUSINESS, [AWARD, FADING], DEFAULT, AS_OF, limit=1)
    assert [c.on for c in changes] == [date(2027, 1, 1)]
    assert upcoming_changes(BUSINESS, [AWARD, FADING], DEFAULT, AS_OF, limit=0) == ()


def test_same_date_sorted_by_ref() -> None:
    records = [violation("R-2", decided_on=date(2026, 1, 1), category="environment"), FADING]
    changes = upcoming_changes(BUSINESS, records, DEFAULT, AS_OF, limit=2)
    assert [(c.on, c.record) for c in changes] == [
        (date(2027, 1, 1), "R-1"),
        (date(2027, 1, 1), "R-2"),
    ]


def test_already_fading_record_only_stops() -> None:
    changes = upcoming_changes(BUSINESS, [FADING], DEFAULT, date(2027, 6, 1))
    assert [(c.on, c.reason) for c in changes] == [(date(2028, 1, 1), "stops counting")]


def test_expired_and_appealed_records_change_nothing() -> None:
    records = [violation("R-1", decided_on=date(2020, 1, 1)), violation(status="under_appeal")]
    assert upcoming_changes(BUSINESS, records, DEFAULT, AS_OF) == ()


def test_values_match_a_fresh_score_on_that_date() -> None:
    records = [AWARD, FADING, violation("R-3", severity="severe", remediated_on=AS_OF)]
    for change in upcoming_changes(BUSINESS, records, DEFAULT, AS_OF, limit=10):
        later = score(BUSINESS, records, DEFAULT, change.on)
        assert (change.value, change.band) == (later.value, later.band)


def test_projection_keeps_facts_known_on_as_of() -> None:
    later_remediation = violation(
        "R-1", decided_on=date(2026, 1, 1), remediated_on=date(2026, 9, 1)
    )
    (fade, _) = upcoming_changes(BUSINESS, [later_remediation], DEFAULT, AS_OF)
    assert fade.value == 95.0  # the remediation is not known yet on AS_OF


def test_nothing_listed_after_an_official_leaves_public_view() -> None:
    official = EntityFacts("official", "DE", term_end=date(2022, 1, 1))  # public until 2027-01-01
    changes = upcoming_changes(official, [FADING], DEFAULT, AS_OF)
    assert [c.on for c in changes] == [date(2027, 1, 1)]
    assert upcoming_changes(official, [FADING], DEFAULT, date(2027, 1, 2)) == ()


def test_change_to_dict() -> None:
    (change, _) = upcoming_changes(BUSINESS, [FADING], DEFAULT, AS_OF)
    assert change.to_dict() == {
        "on": "2027-01-01",
        "value": 95.0,
        "band": "A",
        "record": "R-1",
        "reason": "starts to fade",
    }
