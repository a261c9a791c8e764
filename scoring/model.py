"""Frozen value objects: the facts the portal feeds in and the scores that come out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

NATURES = ("violation", "commendation")
SEVERITIES = ("minor", "moderate", "serious", "severe")
STATUSES = (
    "draft",
    "submitted",
    "approved",
    "published",
    "under_appeal",
    "overturned",
    "withdrawn",
)
VIOLATION_CATEGORIES = (
    "data_protection",
    "environment",
    "food_safety",
    "workplace_safety",
    "financial_conduct",
    "consumer_protection",
    "charity_governance",
    "public_procurement",
    "conduct_in_office",
    "transparency",
)
COMMENDATION_CATEGORIES = (
    "certification",
    "voluntary_disclosure",
    "community_contribution",
    "award",
)
CATEGORIES = VIOLATION_CATEGORIES + COMMENDATION_CATEGORIES
# What a record may impose; a rulebook's ``[[measures]]`` says how each is scored.
MEASURES = (
    "debarment",
    "suspension",
    "licence_revoked",
    "sanctions_listing",
    "exclusion",
    "fine",
    "warning",
    "order",
)

# Contribution states.
COUNTING = "counting"
UNDER_APPEAL = "under_appeal"
EXPIRED = "expired"
# Another record of the same case (a cross-debarment) counts instead of this one.
SAME_CASE = "same_case"


@dataclass(frozen=True, slots=True)
class Band:
    """A score band: ``min`` inclusive, ``below`` exclusive."""

    code: str
    label: str
    min: float
    below: float

    def contains(self, value: float) -> bool:
        """Tell whether ``value`` falls in this band."""
        return self.min <= value < self.below

    def to_dict(self) -> dict[str, Any]:
        """Return the band as JSON-ready data."""
        return {"code": self.code, "label": self.label, "min": self.min, "below": self.below}


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What the engine needs to know about one published finding."""

    ref: str
    nature: str
    category: str
    severity: str
    decided_on: date
    status: str
    published_on: date | None = None
    remediated_on: date | None = None
    # A measure in force for a period (DESIGN §4): until empty means until lifted.
    measure: str | None = None
    in_force_from: date | None = None
    in_force_until: date | None = None
    lifted_on: date | None = None
    # The case this record enforces; records of one case count once (None: its own case).
    case: str | None = None

    def __post_init__(self) -> None:
        """Refuse a nature, severity or measure the rulebooks cannot price."""
        if self.nature not in NATURES:
            raise ValueError(f"record {self.ref}: unknown nature {self.nature!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"record {self.ref}: unknown severity {self.severity!r}")
        if self.measure is not None and self.measure not in MEASURES:
            raise ValueError(f"record {self.ref}: unknown measure {self.measure!r}")

    @property
    def case_key(self) -> str:
        """Return the case this record belongs to: its own ref when it names none."""
        return self.case or f"ref:{self.ref}"


@dataclass(frozen=True, slots=True)
class EntityFacts:
    """What the engine needs to know about the scored entity."""

    kind: str
    jurisdiction: str
    term_end: date | None = None


@dataclass(frozen=True, slots=True)
class Contribution:
    """One record's share of a score, with every factor that produced it."""

    record: str
    nature: str
    category: str
    severity: str
    decided_on: date
    base_points: float
    factors: tuple[tuple[str, float], ...]
    points: float
    # None while a measure is in force until lifted: no end date is known yet.
    counts_until: date | None
    full_weight_until: date | None
    state: str
    remediation_would_restore: float | None
    # Kept unrounded so that totals are exact; ``points`` is the published, rounded figure.
    exact_points: float = field(repr=False)
    measure: str | None = None
    in_force: bool = False
    # For a record of a case that another record counts for: that record's ref.
    counted_under: str | None = None

    def factors_dict(self) -> dict[str, float]:
        """Return the factors as a name → value mapping."""
        return dict(self.factors)

    def to_dict(self) -> dict[str, Any]:
        """Return the contribution as JSON-ready data with the API's stable keys."""
        return {
            "record": self.record,
            "nature": self.nature,
            "category": self.category,
            "severity": self.severity,
            "decided_on": self.decided_on.isoformat(),
            "base_points": self.base_points,
            "factors": self.factors_dict(),
            "points": self.points,
            "counts_until": _iso(self.counts_until),
            "state": self.state,
            "full_weight_until": _iso(self.full_weight_until),
            "remediation_would_restore": self.remediation_would_restore,
            "measure": self.measure,
            "in_force": self.in_force,
            "counted_under": self.counted_under,
        }


def _iso(day: date | None) -> str | None:
    """Return a date as ISO text, or None."""
    return day.isoformat() if day is not None else None


@dataclass(frozen=True, slots=True)
class Measure:
    """How a rulebook treats one kind of measure (``[[measures]]``)."""

    kind: str
    label: str
    # A sanction flags the entity "under sanction" while in force and caps its score.
    sanction: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the measure rule as JSON-ready data."""
        return {"kind": self.kind, "label": self.label, "sanction": self.sanction}


@dataclass(frozen=True, slots=True)
class SanctionInForce:
    """A sanction in force on the score's date, to be shown before the score itself."""

    record: str
    measure: str
    label: str
    since: date
    # None: in force until lifted.
    until: date | None
    under_appeal: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the sanction as JSON-ready data."""
        return {
            "record": self.record,
            "measure": self.measure,
            "label": self.label,
            "since": self.since.isoformat(),
            "until": _iso(self.until),
            "under_appeal": self.under_appeal,
        }


@dataclass(frozen=True, slots=True)
class Score:
    """An entity's score as of a date, stamped with the rulebook that produced it."""

    value: float
    unclamped: float
    band: str
    band_label: str
    trusted: bool
    watchlist: bool
    rulebook_id: str
    rulebook_version: str
    as_of: date
    deductions: float
    credits: float
    credits_capped: float
    contributions: tuple[Contribution, ...]
    sanctions: tuple[SanctionInForce, ...] = ()
    # True when ``measures.sanction_score_at_most`` lowered the value.
    sanction_capped: bool = False

    @property
    def under_sanction(self) -> bool:
        """Tell whether any sanction is in force on the score's date."""
        return bool(self.sanctions)

    def to_dict(self) -> dict[str, Any]:
        """Return the score as JSON-ready data with the API's stable keys."""
        return {
            "value": self.value,
            "band": self.band,
            "band_label": self.band_label,
            "trusted": self.trusted,
            "watchlist": self.watchlist,
            "rulebook": {"id": self.rulebook_id, "version": self.rulebook_version},
            "as_of": self.as_of.isoformat(),
            "deductions": self.deductions,
            "credits": self.credits,
            "credits_capped": self.credits_capped,
            "contributions": [c.to_dict() for c in self.contributions],
            "under_sanction": self.under_sanction,
            "sanctions": [s.to_dict() for s in self.sanctions],
            "sanction_capped": self.sanction_capped,
        }


@dataclass(frozen=True, slots=True)
class ScoreChange:
    """A coming date on which the score moves because a record ages."""

    on: date
    value: float
    band: str
    record: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the change as JSON-ready data."""
        return {
            "on": self.on.isoformat(),
            "value": self.value,
            "band": self.band,
            "record": self.record,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Rulebook:
    """One version of one jurisdiction's scoring rules, as loaded from its TOML file."""

    jurisdiction: str
    version: str
    effective_from: date
    title: str
    description: str
    baseline: float
    floor: float
    ceiling: float
    credit_cap: float
    # Mappings are read-only views; they stay out of the hash but not out of equality.
    severity_points: Mapping[str, float] = field(hash=False)
    counts_for_years: Mapping[str, int] = field(hash=False)
    category_weights: Mapping[str, float] = field(hash=False)
    repeat_window_years: int
    repeat_factor: float
    remediation_factor: float
    commendation_counts_for_years: int
    bands: tuple[Band, ...]
    trusted_min: float
    trusted_clean_years: int
    watchlist_bands: tuple[str, ...]
    appeal_file_within_days: int
    appeal_decide_within_days: int
    official_public_years_after_term: int
    # Optional ``[measures]``: a version without it scores every record as a dated finding.
    measures: tuple[Measure, ...] = ()
    sanction_score_at_most: float | None = None
    lifted_stops_counting: bool = True
    source: str = field(default="", compare=False)

    @property
    def id(self) -> str:
        """Return the rulebook family: its jurisdiction code, or ``default``."""
        return self.jurisdiction

    def category_weight(self, category: str) -> float:
        """Return the weight of a category (``category_weights``; 1.0 when not listed)."""
        return self.category_weights.get(category, 1.0)

    def measure(self, kind: str | None) -> Measure | None:
        """Return the rule for a measure kind, or None when this version has none for it."""
        return next((m for m in self.measures if m.kind == kind), None)

    def band_for(self, value: float) -> Band:
        """Return the band holding ``value`` (``bands``); outside them, the nearest end band."""
        for band in self.bands:
            if band.contains(value):
                return band
        return self.bands[0] if value < self.bands[0].min else self.bands[-1]

    def to_dict(self) -> dict[str, Any]:
        """Return every rule as JSON-ready data, laid out like the TOML file."""
        return {
            "id": self.id,
            "jurisdiction": self.jurisdiction,
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "title": self.title,
            "description": self.description,
            "score": {
                "baseline": self.baseline,
                "floor": self.floor,
                "ceiling": self.ceiling,
                "credit_cap": self.credit_cap,
            },
            "severity_points": dict(self.severity_points),
            "counts_for_years": dict(self.counts_for_years),
            "category_weights": dict(self.category_weights),
            "repeat": {"window_years": self.repeat_window_years, "factor": self.repeat_factor},
            "remediation": {"factor": self.remediation_factor},
            "commendations": {"counts_for_years": self.commendation_counts_for_years},
            "bands": [band.to_dict() for band in self.bands],
            "flags": {
                "trusted_min": self.trusted_min,
                "trusted_clean_years": self.trusted_clean_years,
                "watchlist_bands": list(self.watchlist_bands),
            },
            "appeals": {
                "file_within_days": self.appeal_file_within_days,
                "decide_within_days": self.appeal_decide_within_days,
            },
            "officials": {"public_years_after_term": self.official_public_years_after_term},
        } | self._measures_dict()

    def _measures_dict(self) -> dict[str, Any]:
        """Return ``[measures]`` as JSON-ready data; empty for a version without it."""
        if not self.measures:
            return {}
        measures = {
            "sanction_score_at_most": self.sanction_score_at_most,
            "lifted_stops_counting": self.lifted_stops_counting,
            "kinds": [m.to_dict() for m in self.measures],
        }
        return {"measures": measures}
