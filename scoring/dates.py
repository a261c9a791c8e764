"""Calendar arithmetic used by the scoring rules."""

from __future__ import annotations

from datetime import date


def add_years(day: date, years: int) -> date:
    """Return the same calendar day ``years`` later (or earlier); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        # Only 29 February can fail: the target year has no such day.
        return day.replace(year=day.year + years, day=28)
