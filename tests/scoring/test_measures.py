"""Measures in force for a period and cases enforced by several agencies (rulebook 2026.2)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import default_rulebooks, score, upcoming_changes
from scoring.dates import add_years
from scoring.model import SEVERITIES
from tests.scoring.factories import BUSINESS, DEFAULT, violation

MEASURED = default_rulebooks().get("default", "2026.2")
TODAY = date(2027, 3, 1)
EXAMPLES = settings(max_examples=150, deadline=None)


def debarment(ref: str = "D-1", **overrides: object) -> object:
    """A published serious procurement debarment decided on 1 March 2018."""
    facts = {
        "category": "public_procurement",
        "severity": "serious",
        "decided_on": date(2018, 3, 1),
        "measure": "debarment",
    }
    return violation(ref, **(facts | overrides))


def test_a_debarment_decided_nine_years_ago_and_still_in_force_counts_in_full_and_flags():
    result = score(BUSINESS, [debarment()], MEASURED, TODAY)
    (part,) = result.contributions
    assert part.points == -12.0 and part.state == "counting" and part.in_force
    assert part.counts_until is None and part.full_weight_until is None
    (sanction,) = result.sanctions
    assert (sanction.label, sanction.since, sanction.until) == ("Debarred", date(2018, 3, 1), None)
    # 88 would be band B; a sanction in force holds the score in band D at most.
    assert result.value == 59.0 and result.band == "D" and result.sanction_capped
    assert not result.trusted


def test_the_same_debarment_under_the_older_rulebook_fades_as_a_finding_did():
    result = score(BUSINESS, [debarment()], DEFAULT, date(2026, 6, 1))
    assert result.contributions[0].state == "expired"
    assert result.sanctions == () and result.value == 100.0


def test_a_debarment_that_ended_two_years_ago_fades_from_its_end_not_its_decision():
    ended = debarment(in_force_until=date(2025, 2, 28))
    part = score(BUSINESS, [ended], MEASURED, TODAY).contributions[0]
    # Serious: 3 years from the day after the last day in force, full weight for half.
    assert part.counts_until == add_years(date(2025, 3, 1), 3)
    assert part.full_weight_until == date(2025, 3, 1) + timedelta(days=(366 + 365 + 365) // 2)
    assert 0 > part.points > -12.0 and not part.in_force
    assert score(BUSINESS, [ended], MEASURED, TODAY).sanctions == ()


def test_a_lifted_debarment_stops_counting_on_the_day_it_is_lifted():
    lifted = debarment(in_force_until=date(2030, 1, 1), lifted_on=date(2027, 2, 1))
    before = score(BUSINESS, [lifted], MEASURED, date(2027, 1, 31))
    on_the_day = score(BUSINESS, [lifted], MEASURED, date(2027, 2, 1))
    assert before.contributions[0].points == -12.0 and before.under_sanction
    assert on_the_day.contributions[0].state == "expired" and on_the_day.value == 100.0
    assert not on_the_day.under_sanction


def test_score_as_of_before_during_and_after_a_period():
    dated = debarment(
        decided_on=date(2026, 1, 10),
        in_force_from=date(2026, 2, 1),
        in_force_until=date(2026, 7, 31),
    )
    decided_not_yet_in_force = score(BUSINESS, [dated], MEASURED, date(2026, 1, 20))
    during = score(BUSINESS, [dated], MEASURED, date(2026, 5, 1))
    after = score(BUSINESS, [dated], MEASURED, date(2026, 9, 1))
    assert decided_not_yet_in_force.value == 88.0 and not decided_not_yet_in_force.under_sanction
    assert during.value == 59.0 and during.sanctions[0].until == date(2026, 7, 31)
    # Full weight for the first half of the three years that start on 1 August 2026.
    assert after.value == 88.0 and not after.under_sanction


def test_three_agencies_publishing_one_case_move_the_score_once():
    case = "worldbank:SANC-2019-17"
    records = [
        debarment("WB-1", case=case),
        debarment("ADB-1", case=case, decided_on=date(2018, 5, 1)),
        debarment("AFDB-1", case=case, decided_on=date(2018, 6, 1), severity="moderate"),
    ]
    unmeasured = [violation(r.ref, severity=r.severity, case=case) for r in records]
    result = score(BUSINESS, records, MEASURED, TODAY)
    parts = {p.record: p for p in result.contributions}
    assert parts["WB-1"].points == -12.0 and parts["WB-1"].state == "counting"
    for ref in ("ADB-1", "AFDB-1"):
        assert parts[ref].points == 0.0 and parts[ref].state == "same_case"
        assert parts[ref].counted_under == "WB-1"
    # One case is one offence: the heaviest counts once, and no record is a repeat.
    once = score(BUSINESS, unmeasured, DEFAULT, date(2026, 5, 2))
    assert once.deductions == 12.0
    assert all(dict(p.factors)["repeat"] == 1.0 for p in once.contributions)


def test_a_sanction_under_appeal_is_shown_but_not_applied():
    result = score(BUSINESS, [debarment(status="under_appeal")], MEASURED, TODAY)
    assert result.sanctions[0].under_appeal and result.value == 100.0
    assert not result.sanction_capped


def test_a_fine_is_an_event_even_under_the_new_rulebook():
    fine = violation(measure="fine", decided_on=date(2018, 3, 1), severity="serious")
    part = score(BUSINESS, [fine], MEASURED, TODAY).contributions[0]
    assert part.state == "expired" and not part.in_force and part.counts_until is not None


def test_upcoming_changes_name_the_day_a_sanction_ends():
    ends = debarment(in_force_until=date(2027, 5, 31))
    (first, *_rest) = upcoming_changes(BUSINESS, [ends], MEASURED, TODAY)
    assert (first.on, first.reason, first.value, first.band) == (
        date(2027, 6, 1),
        "sanction ends",
        88.0,
        "B",
    )


periods = st.tuples(
    st.dates(date(2010, 1, 1), date(2030, 12, 31)),
    st.integers(0, 4000),
    st.none() | st.integers(0, 4000),
    st.none() | st.integers(0, 4000),
)


@EXAMPLES
@given(periods, st.sampled_from(SEVERITIES), st.dates(date(2010, 1, 1), date(2040, 12, 31)))
def test_any_period_counts_in_full_while_in_force_and_never_more(period, severity, on):
    decided, start_after, length, lifted_after = period
    start = decided + timedelta(days=start_after)
    until = start + timedelta(days=length) if length is not None else None
    lifted = start + timedelta(days=lifted_after) if lifted_after is not None else None
    record = debarment(
        decided_on=decided,
        severity=severity,
        in_force_from=start,
        in_force_until=until,
        lifted_on=lifted,
    )
    result = score(BUSINESS, [record], MEASURED, on)
    full = MEASURED.severity_points[severity]
    in_force = start <= on and (until is None or on <= until) and (lifted is None or on < lifted)
    if on < decided:
        assert result.contributions == () and not result.under_sanction
        return
    (part,) = result.contributions
    assert part.in_force == in_force == result.under_sanction
    assert -full - 1e-9 <= part.exact_points <= 0.0
    if on <= (until or on) and (lifted is None or on < lifted):
        # Decided and not yet ended: full weight, whether or not it has taken effect.
        assert part.points == -full
    if lifted is not None and on >= lifted and (until is None or lifted <= until):
        assert part.points == 0.0
    if in_force:
        assert result.value <= MEASURED.sanction_score_at_most
