"""Measures in force for a period, and cases enforced by several agencies (DESIGN §4).

A debarment, suspension or listing is not an event that fades from its decision: it
counts in full while it is in force, and fades only from the day it ends (or stops at
once when it is lifted, ``measures.lifted_stops_counting``). One case published by
several agencies (a cross-debarment) counts once: its heaviest record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from scoring.model import Measure, RecordFacts, Rulebook, SanctionInForce

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Period:
    """When a measure is in force: from ``start`` to the day before ``end`` (None: open)."""

    rule: Measure
    start: date
    end: date | None
    lifted: bool

    def in_force(self, on: date) -> bool:
        """Tell whether the measure is in force on a date."""
        return self.start <= on and (self.end is None or on < self.end)

    @property
    def last_day(self) -> date | None:
        """Return the last day in force, or None while it is in force until lifted."""
        return self.end - ONE_DAY if self.end is not None else None


def period_of(record: RecordFacts, rulebook: Rulebook) -> Period | None:
    """Return the period of a record's measure under ``[measures]``, or None for an event.

    A sanction is in force from ``in_force_from`` (else its decision) until
    ``in_force_until`` or ``lifted_on``, whichever comes first; another measure has a
    period only when the record gives one of its dates (a fine is an event).
    """
    rule = rulebook.measure(record.measure)
    if rule is None:
        return None
    if not (rule.sanction or record.in_force_from or record.in_force_until):
        return None
    start = record.in_force_from or record.decided_on
    natural = record.in_force_until + ONE_DAY if record.in_force_until else None
    if record.lifted_on is not None and (natural is None or record.lifted_on < natural):
        return Period(rule, start, max(record.lifted_on, start), True)
    return Period(rule, start, natural, False)


def sanction_in_force(
    record: RecordFacts, period: Period | None, on: date
) -> SanctionInForce | None:
    """Return the sanction a record imposes on a date, if it is one and in force."""
    if period is None or not period.rule.sanction or not period.in_force(on):
        return None
    return SanctionInForce(
        record=record.ref,
        measure=period.rule.kind,
        label=period.rule.label,
        since=period.start,
        until=period.last_day,
        under_appeal=record.status == "under_appeal",
    )


def counted_per_case(records: Sequence[RecordFacts], points: Sequence[float]) -> list[str | None]:
    """For each record, the ref of the record of its case that counts instead, or None.

    The heaviest record of a case counts (most points either way); a tie goes to the
    earliest decision, then the lowest ref, so the choice does not depend on input order.
    """
    best: dict[str, int] = {}
    for index, record in enumerate(records):
        key = record.case_key
        current = best.get(key)
        if current is None or _heavier(records, points, index, current):
            best[key] = index
    return [
        None if best[r.case_key] == index else records[best[r.case_key]].ref
        for index, r in enumerate(records)
    ]


def _heavier(records: Sequence[RecordFacts], points: Sequence[float], a: int, b: int) -> bool:
    """Tell whether record ``a`` outweighs record ``b`` of the same case."""

    def rank(i: int) -> tuple[float, date, str]:
        """Sort key: most points, then earliest decision, then lowest ref."""
        return (-abs(points[i]), records[i].decided_on, records[i].ref)

    return rank(a) < rank(b)
