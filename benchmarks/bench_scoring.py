"""Time score() and upcoming_changes() for one entity with 50 records (target: under 1 ms)."""

from __future__ import annotations

import statistics
import sys
import timeit
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring import EntityFacts, RecordFacts, default_rulebooks, score, upcoming_changes  # noqa: E402
from scoring.model import COMMENDATION_CATEGORIES, VIOLATION_CATEGORIES  # noqa: E402

AS_OF = date(2026, 6, 1)
STATUSES = ["published"] * 8 + ["under_appeal", "withdrawn"]
# Mostly minor findings, as for a large organisation with a long record.
SEVERITY_MIX = ["minor", "minor", "moderate", "minor", "serious", "minor", "moderate", "severe"]


def build_records(count: int = 50) -> list[RecordFacts]:
    """Build a deterministic mix of violations and commendations over the last twenty years."""
    records = []
    for i in range(count):
        commend = i % 5 == 4
        categories = COMMENDATION_CATEGORIES if commend else VIOLATION_CATEGORIES
        decided = AS_OF - timedelta(days=(i * 149) % 7300)
        records.append(
            RecordFacts(
                ref=f"R-2026-{i:06d}",
                nature="commendation" if commend else "violation",
                category=categories[i % len(categories)],
                severity=SEVERITY_MIX[i % len(SEVERITY_MIX)],
                decided_on=decided,
                status=STATUSES[i % len(STATUSES)],
                published_on=decided + timedelta(days=3),
                remediated_on=decided + timedelta(days=200) if i % 3 == 0 else None,
            )
        )
    return records


def main() -> None:
    """Run the benchmark and print the median time per call in microseconds."""
    facts = EntityFacts("business", "GB-WLS")
    records = build_records()
    rulebook = default_rulebooks().select(facts.jurisdiction, AS_OF)

    def both() -> None:
        """Score the entity and list what changes next, as the entity page does."""
        score(facts, records, rulebook, AS_OF)
        upcoming_changes(facts, records, rulebook, AS_OF)

    result = score(facts, records, rulebook, AS_OF)
    print(
        f"{len(records)} records, rulebook {result.rulebook_id} {result.rulebook_version}, "
        f"score {result.value} ({result.band}), {len(result.contributions)} contributions"
    )
    for name, call in [
        ("score()", lambda: score(facts, records, rulebook, AS_OF)),
        ("upcoming_changes()", lambda: upcoming_changes(facts, records, rulebook, AS_OF)),
        ("score() + upcoming_changes()", both),
    ]:
        number = 200
        runs = timeit.repeat(call, number=number, repeat=25)
        median_us = statistics.median(runs) / number * 1e6
        best_us = min(runs) / number * 1e6
        print(f"{name:30s} median {median_us:8.1f} µs/call   best {best_us:8.1f} µs/call")
    total = statistics.median(timeit.repeat(both, number=200, repeat=25)) / 200 * 1e6
    print(f"target < 1000 µs: {'met' if total < 1000 else 'NOT met'} ({total:.1f} µs)")


if __name__ == "__main__":
    main()
