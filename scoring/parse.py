"""Turn one parsed rulebook TOML document into a validated ``Rulebook``."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from scoring.model import CATEGORIES, MEASURES, SEVERITIES, Band, Measure, Rulebook

DEFAULT_JURISDICTION = "default"
# ISO 3166-1 alpha-2, optionally followed by ISO 3166-2 subdivision parts ("GB-WLS", "US-CA").
_JURISDICTION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})*")


class RulebookError(ValueError):
    """A rulebook file is malformed; the message names the file and the key."""


class _Table:
    """A TOML table being read: tracks which keys were used so that leftovers are refused."""

    def __init__(self, data: Mapping[str, Any], source: str, path: str = "") -> None:
        """Wrap ``data`` found at ``path`` in the file ``source``."""
        self.data = data
        self.source = source
        self.path = path
        self.used: set[str] = set()

    def where(self, key: str) -> str:
        """Return the dotted path of ``key`` in the file."""
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> RulebookError:
        """Build the error for ``key``, naming the file and the key."""
        return RulebookError(f"{self.source}: {self.where(key)}: {problem}")

    def raw(self, key: str) -> Any:
        """Return the value of a required key."""
        if key not in self.data:
            raise self.fail(key, "missing key")
        self.used.add(key)
        return self.data[key]

    def text(self, key: str) -> str:
        """Return a required non-empty string."""
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string (got {value!r})")
        return value

    def number(self, key: str, minimum: float | None = 0.0, maximum: float | None = None) -> float:
        """Return a required finite number within the given bounds."""
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number (got {value!r})")
        if not math.isfinite(value):
            raise self.fail(key, f"must be a number (got {value!r})")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum:g} (got {value!r})")
        if maximum is not None and value > maximum:
            raise self.fail(key, f"must be at most {maximum:g} (got {value!r})")
        return float(value)

    def whole(self, key: str, minimum: int = 0) -> int:
        """Return a required whole number of at least ``minimum``."""
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number (got {value!r})")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum} (got {value!r})")
        return value

    def day(self, key: str) -> date:
        """Return a required TOML date (a bare ``YYYY-MM-DD``, not a string or a datetime)."""
        value = self.raw(key)
        if isinstance(value, datetime) or not isinstance(value, date):
            raise self.fail(key, f"must be a TOML date such as 2026-01-01 (got {value!r})")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        """Return a required array of strings."""
        value = self.raw(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be an array of strings (got {value!r})")
        return tuple(value)

    def table(self, key: str) -> _Table:
        """Return a required sub-table."""
        value = self.raw(key)
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return _Table(value, self.source, self.where(key))

    def flag(self, key: str) -> bool:
        """Return a required true or false."""
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false (got {value!r})")
        return value

    def tables(self, key: str) -> list[_Table]:
        """Return a required, non-empty array of tables."""
        value = self.raw(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "must be a non-empty array of tables ([[...]])")
        return [_Table(v, self.source, f"{self.where(key)}[{i}]") for i, v in enumerate(value)]

    def done(self) -> None:
        """Refuse any key that no rule read: it is a typo or an unsupported rule."""
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.fail(unknown[0], "unknown key")


def _per_severity_points(table: _Table) -> MappingProxyType[str, float]:
    """Read ``severity_points``: every severity, non-negative."""
    values = {severity: table.number(severity) for severity in SEVERITIES}
    table.done()
    return MappingProxyType(values)


def _per_severity_years(table: _Table) -> MappingProxyType[str, int]:
    """Read ``counts_for_years``: every severity, at least one year."""
    values = {severity: table.whole(severity, minimum=1) for severity in SEVERITIES}
    table.done()
    return MappingProxyType(values)


def _category_weights(table: _Table) -> MappingProxyType[str, float]:
    """Read ``category_weights``: only known categories, non-negative weights."""
    for category in sorted(table.data):
        if category not in CATEGORIES:
            raise table.fail(category, f"unknown key (categories: {', '.join(CATEGORIES)})")
    return MappingProxyType({c: table.number(c) for c in sorted(table.data)})


def _bands(root: _Table) -> tuple[Band, ...]:
    """Read ``[[bands]]``: unique codes, each ``min`` below its ``below``, sorted by ``min``."""
    bands: list[Band] = []
    for table in root.tables("bands"):
        band = Band(
            table.text("code"),
            table.text("label"),
            table.number("min", None),
            table.number("below", None),
        )
        table.done()
        if band.below <= band.min:
            raise table.fail("below", f"must be greater than min ({band.below:g} <= {band.min:g})")
        if any(b.code == band.code for b in bands):
            raise table.fail("code", f"duplicate band code {band.code!r}")
        bands.append(band)
    return tuple(sorted(bands, key=lambda b: b.min))


def _check_bands(root: _Table, rulebook: Rulebook) -> None:
    """Refuse bands that overlap, leave a gap, or fail to cover floor to ceiling."""
    bands = rulebook.bands
    for lower, upper in zip(bands, bands[1:], strict=False):
        if lower.below != upper.min:
            kind = "overlap" if lower.below > upper.min else "gap"
            raise root.fail(
                "bands",
                f"{kind} between band {lower.code} (below {lower.below:g}) "
                f"and band {upper.code} (min {upper.min:g})",
            )
    if bands[0].min > rulebook.floor:
        raise root.fail("bands", f"lowest band {bands[0].code} starts above score.floor")
    if bands[-1].below <= rulebook.ceiling:
        raise root.fail("bands", f"highest band {bands[-1].code} must reach above score.ceiling")


def _check_score(table: _Table, rulebook: Rulebook) -> None:
    """Refuse ``[score]`` limits out of order: floor <= baseline <= ceiling."""
    if rulebook.floor > rulebook.baseline:
        raise table.fail("floor", "must not exceed score.baseline")
    if rulebook.baseline > rulebook.ceiling:
        raise table.fail("baseline", "must not exceed score.ceiling")


def _check_watchlist(table: _Table, rulebook: Rulebook) -> None:
    """Refuse a ``flags.watchlist_bands`` entry naming no band."""
    codes = {band.code for band in rulebook.bands}
    for code in rulebook.watchlist_bands:
        if code not in codes:
            raise table.fail("watchlist_bands", f"no such band {code!r}")


def _jurisdiction(root: _Table) -> str:
    """Read ``jurisdiction``: "default" or an ISO 3166 code."""
    code = root.text("jurisdiction")
    if code != DEFAULT_JURISDICTION and not _JURISDICTION.fullmatch(code):
        raise root.fail("jurisdiction", f"must be 'default' or an ISO 3166 code (got {code!r})")
    return code


def _weights(root: _Table) -> MappingProxyType[str, float]:
    """Read the optional ``[category_weights]``."""
    if "category_weights" not in root.data:
        return MappingProxyType({})
    return _category_weights(root.table("category_weights"))


def _measure_kinds(table: _Table) -> tuple[Measure, ...]:
    """Read ``[[measures.kinds]]``: known kinds, each once, with a label and a sanction flag."""
    kinds: list[Measure] = []
    for entry in table.tables("kinds"):
        kind = entry.text("kind")
        if kind not in MEASURES:
            raise entry.fail("kind", f"unknown measure {kind!r} (measures: {', '.join(MEASURES)})")
        if any(m.kind == kind for m in kinds):
            raise entry.fail("kind", f"duplicate measure {kind!r}")
        kinds.append(Measure(kind, entry.text("label"), entry.flag("sanction")))
        entry.done()
    return tuple(kinds)


def _measures(root: _Table) -> dict[str, Any]:
    """Read the optional ``[measures]``: how measures in force for a period are scored."""
    if "measures" not in root.data:
        return {}
    table = root.table("measures")
    found = {
        "measures": _measure_kinds(table),
        "sanction_score_at_most": table.number("sanction_score_at_most", None),
        "lifted_stops_counting": table.flag("lifted_stops_counting"),
    }
    table.done()
    return found


def parse_rulebook(data: Mapping[str, Any], source: str) -> Rulebook:
    """Validate a parsed TOML document from ``source`` and build its ``Rulebook``."""
    root = _Table(data, source)
    names = ("score", "repeat", "remediation", "commendations", "flags", "appeals", "officials")
    score, repeat, remediation, commendations, flags, appeals, officials = map(root.table, names)
    rulebook = Rulebook(
        jurisdiction=_jurisdiction(root),
        version=root.text("version"),
        effective_from=root.day("effective_from"),
        title=root.text("title"),
        description=root.text("description"),
        baseline=score.number("baseline", None),
        floor=score.number("floor", None),
        ceiling=score.number("ceiling", None),
        credit_cap=score.number("credit_cap"),
        severity_points=_per_severity_points(root.table("severity_points")),
        counts_for_years=_per_severity_years(root.table("counts_for_years")),
        category_weights=_weights(root),
        repeat_window_years=repeat.whole("window_years"),
        # Below 1 a repeat would lighten a later finding: adding a record could raise a score.
        repeat_factor=repeat.number("factor", minimum=1.0),
        remediation_factor=remediation.number("factor", maximum=1.0),
        commendation_counts_for_years=commendations.whole("counts_for_years", minimum=1),
        bands=_bands(root),
        trusted_min=flags.number("trusted_min", None),
        trusted_clean_years=flags.whole("trusted_clean_years"),
        watchlist_bands=flags.texts("watchlist_bands"),
        appeal_file_within_days=appeals.whole("file_within_days", minimum=1),
        appeal_decide_within_days=appeals.whole("decide_within_days", minimum=1),
        official_public_years_after_term=officials.whole("public_years_after_term"),
        source=source,
        **_measures(root),
    )
    for table in (root, score, repeat, remediation, commendations, flags, appeals, officials):
        table.done()
    _check_score(score, rulebook)
    _check_bands(root, rulebook)
    _check_watchlist(flags, rulebook)
    return rulebook
