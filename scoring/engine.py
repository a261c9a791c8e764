"""The score formula of DESIGN §4: contributions, totals, band and flags.

score = clamp(baseline - Σ deductions + min(Σ credits, credit_cap), floor, ceiling)
deduction = severity_points × category_weight × repeat × remediation × age
A measure in force has age 1 until it ends; one case counts once; a sanction in force
caps the score at ``measures.sanction_score_at_most``.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from scoring.dates import add_years
from scoring.measures import Period, counted_per_case, period_of, sanction_in_force
from scoring.model import (
    COUNTING,
    EXPIRED,
    SAME_CASE,
    UNDER_APPEAL,
    Contribution,
    EntityFacts,
    RecordFacts,
    Rulebook,
    SanctionInForce,
    Score,
    ScoreChange,
)

__all__ = ["ENDS", "FADES", "STARTS", "STOPS", "is_public", "score", "upcoming_changes"]

PUBLISHED = "published"
VIOLATION = "violation"
OFFICIAL = "official"
FADES = "starts to fade"
STOPS = "stops counting"
STARTS = "sanction takes effect"
ENDS = "sanction ends"


@dataclass(frozen=True, slots=True)
class _Item:
    """A visible record with everything about it that does not change as it ages."""

    record: RecordFacts
    base_points: float
    factors: tuple[tuple[str, float], ...]
    full_points: float
    full_weight_until: date | None
    counts_until: date | None
    remediated: bool
    period: Period | None


def _public_until(facts: EntityFacts, rulebook: Rulebook) -> date | None:
    """Return the last day an official's records are public (``officials``), else None."""
    if facts.kind != OFFICIAL or facts.term_end is None:
        return None
    return add_years(facts.term_end, rulebook.official_public_years_after_term)


def is_public(facts: EntityFacts, rulebook: Rulebook, as_of: date) -> bool:
    """Tell whether the entity's records are in public view on ``as_of``."""
    until = _public_until(facts, rulebook)
    return until is None or as_of <= until


def _order(record: RecordFacts) -> tuple[object, ...]:
    """Sort key: newest decision first, then ref, then every other fact (a total order)."""
    return (
        -record.decided_on.toordinal(),
        record.ref,
        record.nature,
        record.category,
        record.severity,
        record.status,
        record.published_on or date.min,
        record.remediated_on or date.min,
        record.measure or "",
        record.in_force_from or date.min,
        record.in_force_until or date.min,
        record.lifted_on or date.min,
        record.case or "",
    )


def _visible(records: Iterable[RecordFacts], as_of: date) -> list[RecordFacts]:
    """Keep published and appealed records already decided and published on ``as_of``."""
    kept = [
        r
        for r in records
        if r.status in (PUBLISHED, UNDER_APPEAL)
        and r.decided_on <= as_of
        and (r.published_on is None or r.published_on <= as_of)
    ]
    kept.sort(key=_order)
    return kept


def _repeats(records: list[RecordFacts], rulebook: Rulebook) -> list[bool]:
    """Flag each violation preceded in its category within ``repeat.window_years``.

    A record of the same case (another agency enforcing it) is the same offence, not a
    repeat of it.
    """
    earlier: dict[str, list[tuple[date, str, str]]] = {}
    for r in records:
        # Only a finding that stands can make a later one a repeat.
        if r.nature == VIOLATION and r.status == PUBLISHED:
            earlier.setdefault(r.category, []).append((r.decided_on, r.ref, r.case_key))
    for keys in earlier.values():
        keys.sort()
    return [_is_repeat(r, earlier, rulebook) for r in records]


def _is_repeat(
    record: RecordFacts, earlier: dict[str, list[tuple[date, str, str]]], rulebook: Rulebook
) -> bool:
    """Tell whether a standing violation of another case precedes this one in its window."""
    keys = earlier.get(record.category, []) if record.nature == VIOLATION else []
    window_start = add_years(record.decided_on, -rulebook.repeat_window_years)
    # Keys below this record's (decided_on, ref) are the earlier ones, closest last.
    index = bisect_left(keys, (record.decided_on, record.ref))
    for decided_on, _ref, case in reversed(keys[:index]):
        if decided_on < window_start:
            return False
        if case != record.case_key:
            return True
    return False


def _periods(
    record: RecordFacts, rulebook: Rulebook, period: Period | None
) -> tuple[date | None, date | None]:
    """Return (full_weight_until, counts_until) from ``counts_for_years``/``commendations``.

    A measure's period starts from the day it ends instead of its decision; one in force
    until lifted has no end yet (None, None); a lifted one stops counting on the day it
    is lifted (``measures.lifted_stops_counting``).
    """
    start = record.decided_on
    if period is not None:
        if period.end is None:
            return None, None
        if period.lifted and rulebook.lifted_stops_counting:
            return period.end, period.end
        start = max(period.end, record.decided_on)
    if record.nature != VIOLATION:
        # Commendations keep full weight for their whole period, then stop.
        until = add_years(start, rulebook.commendation_counts_for_years)
        return until, until
    until = add_years(start, rulebook.counts_for_years[record.severity])
    half = (until - start).days // 2
    return start + timedelta(days=half), until


def _item(record: RecordFacts, repeat: bool, rulebook: Rulebook, as_of: date) -> _Item:
    """Price one record at full weight: points × weight (× repeat × remediation)."""
    base = rulebook.severity_points[record.severity]
    weight = rulebook.category_weight(record.category)
    remediated = record.remediated_on is not None and record.remediated_on <= as_of
    factors: tuple[tuple[str, float], ...]
    if record.nature == VIOLATION:
        repeat_factor = rulebook.repeat_factor if repeat else 1.0
        remediation = rulebook.remediation_factor if remediated else 1.0
        factors = (
            ("category_weight", weight),
            ("repeat", repeat_factor),
            ("remediation", remediation),
        )
        full = -(base * weight * repeat_factor * remediation)
    else:
        factors = (("category_weight", weight),)
        full = base * weight
    if record.status == UNDER_APPEAL:
        # Held at zero until the appeal is decided, like a food hygiene rating.
        full = 0.0
    period = period_of(record, rulebook)
    fade, until = _periods(record, rulebook, period)
    return _Item(record, base, factors, full, fade, until, remediated, period)


def _prepare(records: Iterable[RecordFacts], rulebook: Rulebook, as_of: date) -> list[_Item]:
    """Price every record visible on ``as_of``, newest first."""
    visible = _visible(records, as_of)
    repeats = _repeats(visible, rulebook)
    return [_item(r, rep, rulebook, as_of) for r, rep in zip(visible, repeats, strict=True)]


def _age(item: _Item, on: date) -> float:
    """Age factor: 1 until full_weight_until (always, while in force until lifted), linear
    to 0 at counts_until, then 0."""
    if item.full_weight_until is None or on < item.full_weight_until:
        return 1.0
    if item.counts_until is None or on >= item.counts_until:
        return 0.0
    return (item.counts_until - on).days / (item.counts_until - item.full_weight_until).days


def _points_on(items: list[_Item], on: date) -> tuple[list[float], list[str | None]]:
    """Return each item's exact points on a date, one record per case, and who counts."""
    aged = [item.full_points * _age(item, on) for item in items]
    counted_under = counted_per_case([item.record for item in items], aged)
    points = [0.0 if under else p for p, under in zip(aged, counted_under, strict=True)]
    return points, counted_under


def _sanctions(items: list[_Item], on: date) -> tuple[SanctionInForce, ...]:
    """Return the sanctions in force on a date, longest-standing first."""
    found = [sanction_in_force(i.record, i.period, on) for i in items]
    return tuple(sorted((s for s in found if s), key=lambda s: (s.since, s.record)))


def _value_on(
    items: list[_Item], on: date, rulebook: Rulebook
) -> tuple[float, float, float, float, float, bool]:
    """Return (value, deductions, credits, capped, unclamped, sanction_capped) on a date."""
    deductions, credits, capped, unclamped = _totals(_points_on(items, on)[0], rulebook)
    value = _clamp(unclamped, rulebook)
    cap = rulebook.sanction_score_at_most
    # A sanction under appeal is shown but, like any record under appeal, not yet applied.
    standing = any(not s.under_appeal for s in _sanctions(items, on))
    lowered = cap is not None and standing and value > cap
    return (
        _rounded(cap) if lowered and cap is not None else value,
        deductions,
        credits,
        capped,
        unclamped,
        lowered,
    )


def _rounded(value: float) -> float:
    """Round to cents, never returning -0.0."""
    return round(value, 2) + 0.0


def _state(record: RecordFacts, age: float, counted_under: str | None) -> str:
    """Return how a record stands: under appeal, still counting, counted with another
    record of its case, or expired (age factor 0)."""
    if record.status == UNDER_APPEAL:
        return UNDER_APPEAL
    if age == 0.0:
        return EXPIRED
    return SAME_CASE if counted_under else COUNTING


def _contribution(
    item: _Item, exact: float, counted_under: str | None, rulebook: Rulebook, as_of: date
) -> Contribution:
    """Explain one record's share of the score on ``as_of``."""
    record = item.record
    age = _age(item, as_of)
    state = _state(record, age, counted_under)
    restore = None
    if state == COUNTING and record.nature == VIOLATION and not item.remediated:
        restore = _rounded(abs(exact) * (1.0 - rulebook.remediation_factor))
    return Contribution(
        record=record.ref,
        nature=record.nature,
        category=record.category,
        severity=record.severity,
        decided_on=record.decided_on,
        base_points=item.base_points,
        factors=(*item.factors, ("age", age)),
        points=_rounded(exact),
        counts_until=item.counts_until,
        full_weight_until=item.full_weight_until,
        state=state,
        remediation_would_restore=restore,
        exact_points=exact,
        measure=record.measure,
        in_force=item.period is not None and item.period.in_force(as_of),
        counted_under=counted_under,
    )


def _totals(points: Iterable[float], rulebook: Rulebook) -> tuple[float, float, float, float]:
    """Return (deductions, credits, credits_capped, unclamped) from signed exact points."""
    values = list(points)
    # fsum is exact, so the total does not depend on the order of the records.
    deductions = -math.fsum(p for p in values if p < 0)
    credits = math.fsum(p for p in values if p > 0)
    capped = min(credits, rulebook.credit_cap)
    return deductions, credits, capped, rulebook.baseline - deductions + capped


def _clamp(unclamped: float, rulebook: Rulebook) -> float:
    """Clamp to [``score.floor``, ``score.ceiling``] and round to cents."""
    return _rounded(min(max(unclamped, rulebook.floor), rulebook.ceiling))


def _trusted(
    value: float,
    parts: tuple[Contribution, ...],
    sanctions: tuple[SanctionInForce, ...],
    rulebook: Rulebook,
    as_of: date,
) -> bool:
    """``flags.trusted_min`` reached, no sanction in force and no deduction decided in
    ``flags.trusted_clean_years``."""
    since = add_years(as_of, -rulebook.trusted_clean_years)
    return (
        value >= rulebook.trusted_min
        and not sanctions
        and not any(c.nature == VIOLATION and c.points < 0 and c.decided_on >= since for c in parts)
    )


def score(
    facts: EntityFacts, records: Iterable[RecordFacts], rulebook: Rulebook, as_of: date
) -> Score:
    """Score an entity as of a date under one rulebook, explaining every contribution."""
    items = _prepare(records, rulebook, as_of) if is_public(facts, rulebook, as_of) else []
    points, counted_under = _points_on(items, as_of)
    parts = tuple(
        _contribution(item, exact, under, rulebook, as_of)
        for item, exact, under in zip(items, points, counted_under, strict=True)
    )
    value, deductions, credits, capped, unclamped, lowered = _value_on(items, as_of, rulebook)
    sanctions = _sanctions(items, as_of)
    band = rulebook.band_for(value)
    return Score(
        value=value,
        unclamped=unclamped,
        band=band.code,
        band_label=band.label,
        trusted=_trusted(value, parts, sanctions, rulebook, as_of),
        watchlist=band.code in rulebook.watchlist_bands,
        rulebook_id=rulebook.id,
        rulebook_version=rulebook.version,
        as_of=as_of,
        deductions=_rounded(deductions),
        credits=_rounded(credits),
        credits_capped=_rounded(capped),
        contributions=parts,
        sanctions=sanctions,
        sanction_capped=lowered,
    )


def _events(item: _Item, as_of: date) -> list[tuple[date, str, str]]:
    """Return the coming dates on which this record's points or sanction change."""
    ref = item.record.ref
    events = []
    period = item.period
    if period is not None and period.rule.sanction and item.record.status == PUBLISHED:
        if as_of < period.start:
            events.append((period.start, ref, STARTS))
        if period.end is not None and as_of < period.end:
            events.append((period.end, ref, ENDS))
    if item.full_points == 0.0:
        return events
    fade, until = item.full_weight_until, item.counts_until
    if fade is not None and until is not None and as_of < fade < until:
        events.append((fade, ref, FADES))
    if until is not None and as_of < until:
        events.append((until, ref, STOPS))
    return events


def upcoming_changes(
    facts: EntityFacts,
    records: Iterable[RecordFacts],
    rulebook: Rulebook,
    as_of: date,
    limit: int = 5,
) -> tuple[ScoreChange, ...]:
    """List the next dates a record starts to fade or stops counting, with the score then.

    The projection keeps the facts known on ``as_of``: no new record, appeal outcome or
    remediation is assumed, and nothing is listed after an official leaves public view.
    """
    if limit < 1 or not is_public(facts, rulebook, as_of):
        return ()
    items = _prepare(records, rulebook, as_of)
    events = sorted({event for item in items for event in _events(item, as_of)})
    until = _public_until(facts, rulebook)
    if until is not None:
        events = [event for event in events if event[0] <= until]
    changes = []
    for on, ref, reason in events[:limit]:
        value = _value_on(items, on, rulebook)[0]
        changes.append(ScoreChange(on, value, rulebook.band_for(value).code, ref, reason))
    return tuple(changes)
