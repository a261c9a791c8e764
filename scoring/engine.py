"""The score formula of DESIGN §4: contributions, totals, band and flags.

score = clamp(baseline - Σ deductions + min(Σ credits, credit_cap), floor, ceiling)
deduction = severity_points × category_weight × repeat × remediation × age
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from scoring.dates import add_years
from scoring.model import (
    COUNTING,
    EXPIRED,
    UNDER_APPEAL,
    Contribution,
    EntityFacts,
    RecordFacts,
    Rulebook,
    Score,
    ScoreChange,
)

__all__ = ["FADES", "STOPS", "is_public", "score", "upcoming_changes"]

PUBLISHED = "published"
VIOLATION = "violation"
OFFICIAL = "official"
FADES = "starts to fade"
STOPS = "stops counting"


@dataclass(frozen=True, slots=True)
class _Item:
    """A visible record with everything about it that does not change as it ages."""

    record: RecordFacts
    base_points: float
    factors: tuple[tuple[str, float], ...]
    full_points: float
    full_weight_until: date
    counts_until: date
    remediated: bool


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
    """Flag each violation preceded in its category within ``repeat.window_years``."""
    earlier: dict[str, list[tuple[date, str]]] = {}
    for r in records:
        # Only a finding that stands can make a later one a repeat.
        if r.nature == VIOLATION and r.status == PUBLISHED:
            earlier.setdefault(r.category, []).append((r.decided_on, r.ref))
    for keys in earlier.values():
        keys.sort()
    flags = []
    for r in records:
        keys = earlier.get(r.category, []) if r.nature == VIOLATION else []
        # The closest earlier key is the one just below this record's (decided_on, ref).
        index = bisect_left(keys, (r.decided_on, r.ref))
        window_start = add_years(r.decided_on, -rulebook.repeat_window_years)
        flags.append(index > 0 and keys[index - 1][0] >= window_start)
    return flags


def _periods(record: RecordFacts, rulebook: Rulebook) -> tuple[date, date]:
    """Return (full_weight_until, counts_until) from ``counts_for_years``/``commendations``."""
    if record.nature != VIOLATION:
        # Commendations keep full weight for their whole period, then stop.
        until = add_years(record.decided_on, rulebook.commendation_counts_for_years)
        return until, until
    until = add_years(record.decided_on, rulebook.counts_for_years[record.severity])
    half = (until - record.decided_on).days // 2
    return record.decided_on + timedelta(days=half), until


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
    fade, until = _periods(record, rulebook)
    return _Item(record, base, factors, full, fade, until, remediated)


def _prepare(records: Iterable[RecordFacts], rulebook: Rulebook, as_of: date) -> list[_Item]:
    """Price every record visible on ``as_of``, newest first."""
    visible = _visible(records, as_of)
    repeats = _repeats(visible, rulebook)
    return [_item(r, rep, rulebook, as_of) for r, rep in zip(visible, repeats, strict=True)]


def _age(item: _Item, on: date) -> float:
    """Age factor: 1 until full_weight_until, linear to 0 at counts_until, then 0."""
    if on < item.full_weight_until:
        return 1.0
    if on >= item.counts_until:
        return 0.0
    return (item.counts_until - on).days / (item.counts_until - item.full_weight_until).days


def _rounded(value: float) -> float:
    """Round to cents, never returning -0.0."""
    return round(value, 2) + 0.0


def _state(record: RecordFacts, age: float) -> str:
    """Return how a record stands: under appeal, still counting, or expired (age factor 0)."""
    if record.status == UNDER_APPEAL:
        return UNDER_APPEAL
    return EXPIRED if age == 0.0 else COUNTING


def _contribution(item: _Item, rulebook: Rulebook, as_of: date) -> Contribution:
    """Explain one record's share of the score on ``as_of``."""
    record = item.record
    age = _age(item, as_of)
    exact = item.full_points * age
    state = _state(record, age)
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
    value: float, parts: tuple[Contribution, ...], rulebook: Rulebook, as_of: date
) -> bool:
    """``flags.trusted_min`` reached and no deduction decided in ``flags.trusted_clean_years``."""
    since = add_years(as_of, -rulebook.trusted_clean_years)
    return value >= rulebook.trusted_min and not any(
        c.nature == VIOLATION and c.points < 0 and c.decided_on >= since for c in parts
    )


def score(
    facts: EntityFacts, records: Iterable[RecordFacts], rulebook: Rulebook, as_of: date
) -> Score:
    """Score an entity as of a date under one rulebook, explaining every contribution."""
    items = _prepare(records, rulebook, as_of) if is_public(facts, rulebook, as_of) else []
    parts = tuple(_contribution(item, rulebook, as_of) for item in items)
    deductions, credits, capped, unclamped = _totals((c.exact_points for c in parts), rulebook)
    value = _clamp(unclamped, rulebook)
    band = rulebook.band_for(value)
    return Score(
        value=value,
        unclamped=unclamped,
        band=band.code,
        band_label=band.label,
        trusted=_trusted(value, parts, rulebook, as_of),
        watchlist=band.code in rulebook.watchlist_bands,
        rulebook_id=rulebook.id,
        rulebook_version=rulebook.version,
        as_of=as_of,
        deductions=_rounded(deductions),
        credits=_rounded(credits),
        credits_capped=_rounded(capped),
        contributions=parts,
    )


def _events(item: _Item, as_of: date) -> list[tuple[date, str, str]]:
    """Return the coming dates on which this record's points change."""
    if item.full_points == 0.0:
        return []
    ref = item.record.ref
    events = []
    if as_of < item.full_weight_until < item.counts_until:
        events.append((item.full_weight_until, ref, FADES))
    if as_of < item.counts_until:
        events.append((item.counts_until, ref, STOPS))
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
        unclamped = _totals((i.full_points * _age(i, on) for i in items), rulebook)[3]
        value = _clamp(unclamped, rulebook)
        changes.append(ScoreChange(on, value, rulebook.band_for(value).code, ref, reason))
    return tuple(changes)
