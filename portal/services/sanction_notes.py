"""The line the public reads first about an entity under sanction, kept with its score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any


def human_date(day: date) -> str:
    """A date as the public reads it: 31 May 2027."""
    return f"{day.day} {day.strftime('%B %Y')}"


def sanction_note(sanctions: Sequence[Any], agency_of: Mapping[str, str]) -> str | None:
    """The line shown first about an entity under sanction, or None.

    "Debarred by World Bank until 31 May 2027"; "Listed by DFAT since 6 October 2001,
    in force until lifted"; more than one: "... (and 2 more)".
    """
    if not sanctions:
        return None
    first = sanctions[0]
    who = agency_of.get(first.record)
    text = first.label + (f" by {who}" if who else "")
    if first.until:
        text += f" until {human_date(first.until)}"
    else:
        text += f" since {human_date(first.since)}, in force until lifted"
    if first.under_appeal:
        text += " (under appeal)"
    more = len(sanctions) - 1
    return (text + (f" (and {more} more)" if more else ""))[:300]
