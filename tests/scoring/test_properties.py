"""Properties of the score for any records: bounds, monotony, order, as-of consistency."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import EntityFacts, RecordFacts, Rulebook, default_rulebooks, score, upcoming_changes
from scoring.model import COMMENDATION_CATEGORIES, SEVERITIES, STATUSES, VIOLATION_CATEGORIES

# No deadline: a slow CI machine must not turn timing into a failure.
EXAMPLES = settings(max_examples=100, deadline=None)

days = st.dates(min_value=date(2016, 1, 1), max_value=date(2032, 12, 31))
rulebooks = st.sampled_from(default_rulebooks().all())
entities = st.one_of(
    st.builds(
        EntityFacts,
        kind=st.sampled_from(["business", "government_body"]),
        jurisdiction=st.just("GB"),
    ),
    st.builds(
        EntityFacts, kind=st.just("official"), jurisdiction=st.just("DE"), term_end=st.none() | days
    ),
)
statuses = st.sampled_from(STATUSES) | st.just("published")  # published more often


@st.composite
def records(
    draw: st.DrawFn, ref: str = "", status: str | None = None, nature: str | None = None
) -> RecordFacts:
    """Draw one record; dates around the 2020s, optional publication and remediation."""
    nature = nature or draw(st.sampled_from(["violation", "violation", "commendation"]))
    categories = VIOLATION_CATEGORIES if nature == "violation" else COMMENDATION_CATEGORIES
    decided = draw(days)
    published = draw(st.none() | st.integers(0, 90).map(lambda n: decided + timedelta(days=n)))
    remediated = draw(st.none() | st.integers(0, 900).map(lambda n: decided + timedelta(days=n)))
    return RecordFacts(
        ref=ref or draw(st.integers(1, 30).map("R-2026-{:06d}".format)),
        nature=nature,
        category=draw(st.sampled_from(categories)),
        severity=draw(st.sampled_from(SEVERITIES)),
        decided_on=decided,
        status=status or draw(statuses),
        published_on=published,
        remediated_on=remediated,
    )


record_lists = st.lists(records(), max_size=15)


def only(nature: str, status: str = "published") -> st.SearchStrategy[RecordFacts]:
    """Draw a standing record of one nature with a ref no other record uses."""
    return records(ref="R-NEW", status=status, nature=nature)


@EXAMPLES
@given(entities, record_lists, rulebooks, days)
def test_value_within_floor_and_ceiling(
    facts: EntityFacts, items: list[RecordFacts], rulebook: Rulebook, as_of: date
) -> None:
    result = score(facts, items, rulebook, as_of)
    assert rulebook.floor <= result.value <= rulebook.ceiling
    assert result.band == rulebook.band_for(result.value).code


@EXAMPLES
@given(entities, record_lists, rulebooks, days, only("violation"))
def test_adding_a_violation_never_raises_the_score(
    facts: EntityFacts,
    items: list[RecordFacts],
    rulebook: Rulebook,
    as_of: date,
    extra: RecordFacts,
) -> None:
    before = score(facts, items, rulebook, as_of)
    after = score(facts, [*items, extra], rulebook, as_of)
    assert after.unclamped <= before.unclamped
    assert after.value <= before.value


@EXAMPLES
@given(entities, record_lists, rulebooks, days, only("commendation"))
def test_adding_a_commendation_never_lowers_the_score(
    facts: EntityFacts,
    items: list[RecordFacts],
    rulebook: Rulebook,
    as_of: date,
    extra: RecordFacts,
) -> None:
    before = score(facts, items, rulebook, as_of)
    after = score(facts, [*items, extra], rulebook, as_of)
    assert after.unclamped >= before.unclamped
    assert after.value >= before.value


@EXAMPLES
@given(st.data(), entities, record_lists, rulebooks, days)
def test_record_order_does_not_matter(
    data: st.DataObject,
    facts: EntityFacts,
    items: list[RecordFacts],
    rulebook: Rulebook,
    as_of: date,
) -> None:
    shuffled = data.draw(st.permutations(items))
    assert score(facts, shuffled, rulebook, as_of) == score(facts, items, rulebook, as_of)
    assert upcoming_changes(facts, shuffled, rulebook, as_of) == upcoming_changes(
        facts, items, rulebook, as_of
    )


@EXAMPLES
@given(entities, record_lists, rulebooks, days)
def test_unclamped_is_the_sum_of_the_contributions(
    facts: EntityFacts, items: list[RecordFacts], rulebook: Rulebook, as_of: date
) -> None:
    result = score(facts, items, rulebook, as_of)
    parts = result.contributions
    deductions = sum(-c.exact_points for c in parts if c.nature == "violation")
    credits = sum(c.exact_points for c in parts if c.nature == "commendation")
    expected = rulebook.baseline - deductions + min(credits, rulebook.credit_cap)
    assert math.isclose(result.unclamped, expected, abs_tol=1e-6)
    shown = sum(c.points for c in parts if c.nature == "violation")
    assert math.isclose(-result.deductions, shown, abs_tol=0.01 * (len(parts) + 1))
    assert all(c.points <= 0 for c in parts if c.nature == "violation")
    assert all(c.points >= 0 for c in parts if c.nature == "commendation")


@EXAMPLES
@given(entities, record_lists, rulebooks, days)
def test_points_are_the_product_of_base_and_factors(
    facts: EntityFacts, items: list[RecordFacts], rulebook: Rulebook, as_of: date
) -> None:
    for part in score(facts, items, rulebook, as_of).contributions:
        product = math.prod(part.factors_dict().values()) * part.base_points
        if part.state in ("under_appeal", "same_case"):
            assert part.points == 0.0
        else:
            assert math.isclose(abs(part.exact_points), product, abs_tol=1e-9)
        if part.state != "under_appeal":
            assert (part.state == "expired") == (part.factors_dict()["age"] == 0.0)


@EXAMPLES
@given(entities, record_lists, rulebooks, days)
def test_same_input_same_output(
    facts: EntityFacts, items: list[RecordFacts], rulebook: Rulebook, as_of: date
) -> None:
    first = score(facts, items, rulebook, as_of)
    second = score(facts, list(items), rulebook, as_of)
    assert first == second
    assert first.to_dict() == second.to_dict()


@EXAMPLES
@given(entities, record_lists, rulebooks, days, st.lists(records(), max_size=5))
def test_records_from_after_as_of_change_nothing(
    facts: EntityFacts,
    items: list[RecordFacts],
    rulebook: Rulebook,
    as_of: date,
    later: list[RecordFacts],
) -> None:
    unknown = [
        r
        for r in later
        if r.decided_on > as_of or (r.published_on is not None and r.published_on > as_of)
    ]
    before = score(facts, items, rulebook, as_of)
    assert score(facts, [*items, *unknown], rulebook, as_of) == before


@EXAMPLES
@given(entities, record_lists, rulebooks, days)
def test_upcoming_changes_match_a_later_score(
    facts: EntityFacts, items: list[RecordFacts], rulebook: Rulebook, as_of: date
) -> None:
    # Keep only facts already known on as_of, so that the later score sees the same facts.
    known = [
        r
        for r in items
        if r.decided_on <= as_of
        and (r.published_on is None or r.published_on <= as_of)
        and (r.remediated_on is None or r.remediated_on <= as_of)
    ]
    changes = upcoming_changes(facts, known, rulebook, as_of)
    assert [(c.on, c.record) for c in changes] == sorted((c.on, c.record) for c in changes)
    for change in changes:
        assert change.on > as_of
        later = score(facts, known, rulebook, change.on)
        assert (change.value, change.band) == (later.value, later.band)
