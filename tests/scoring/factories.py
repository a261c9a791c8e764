"""The smallest facts that show each scoring case, shared by the scoring tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from scoring import EntityFacts, RecordFacts, default_rulebooks

AS_OF = date(2026, 6, 1)
RECENT = date(2026, 5, 1)  # young enough for full weight at AS_OF, whatever the severity
BUSINESS = EntityFacts("business", "DE")

DEFAULT = default_rulebooks().get("default", "2026.1")
DEFAULT_2020 = default_rulebooks().get("default", "2020.1")
GB = default_rulebooks().get("GB", "2024.1")
US_CA = default_rulebooks().get("US-CA", "2023.1")


def violation(ref: str = "R-1", **overrides: Any) -> RecordFacts:
    """Build a published moderate food-safety violation decided on RECENT."""
    facts: dict[str, Any] = {
        "nature": "violation",
        "category": "food_safety",
        "severity": "moderate",
        "decided_on": RECENT,
        "status": "published",
    }
    return RecordFacts(ref=ref, **(facts | overrides))


def commendation(ref: str = "C-1", **overrides: Any) -> RecordFacts:
    """Build a published moderate award decided on RECENT."""
    facts: dict[str, Any] = {
        "nature": "commendation",
        "category": "award",
        "severity": "moderate",
        "decided_on": RECENT,
        "status": "published",
    }
    return RecordFacts(ref=ref, **(facts | overrides))
