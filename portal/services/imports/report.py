"""What an import did, or would do: counts, new and matched entities, skipped and bad rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from portal.errors import PortalError

MAX_ERRORS_SHOWN = 200
NAMES_SHOWN = 10
ROW_NUMBERS_SHOWN = 40
GROUPED_FROM = 5


@dataclass
class RowError:
    """Why one row of a file cannot be imported."""

    row: int
    line: int
    message: str

    def __str__(self) -> str:
        """`row 500 (line 501): severity: must be one of ...`."""
        return f"row {self.row} (line {self.line}): {self.message}"


@dataclass
class SkippedRow:
    """A row deliberately not imported (a placeholder name, a skip rule), and why."""

    row: int
    line: int
    reason: str
    detail: str | None = None

    def __str__(self) -> str:
        """`row 7 (line 8): names no organisation ... ('Unknown')`."""
        tail = f" ({self.detail!r})" if self.detail else ""
        return f"row {self.row} (line {self.line}): {self.reason}{tail}"


@dataclass
class EntitySummary:
    """One entity an import creates or matches, with the spellings rows gave it."""

    name: str
    slug: str | None
    rows: int
    spellings: list[str]
    # Entities already in the register it may be: "Name (slug, JURISDICTION)".
    resembles: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import did, or would do, and every bad row."""

    what: str
    file: str
    dry_run: bool = False
    mapping: str | None = None
    rows: int = 0
    created: int = 0
    present: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str | None = None
    agencies_created: list[str] = field(default_factory=list)
    entities_new: list[EntitySummary] = field(default_factory=list)
    entities_matched: list[EntitySummary] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every row is valid and the file could be read."""
        return not self.errors and not self.file_error

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data, for the web upload and the API."""
        return {**asdict(self), "ok": self.ok, "errors": [asdict(e) for e in self.errors]}

    def lines(self) -> list[str]:
        """The report as lines for a terminal."""
        if self.file_error:
            return [f"error: {self.file}: {self.file_error}; nothing was imported."]
        if self.errors:
            return self._error_lines()
        verb = "would import" if self.dry_run else "imported"
        parts = [f"{verb} {self.created} {self.what}"]
        if self.present:
            parts.append(f"{self.present} already present")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        note = " (dry run: nothing written)" if self.dry_run else ""
        via = f" with mapping {self.mapping}" if self.mapping else ""
        took = f" in {self.seconds:.1f} s" if self.seconds else ""
        head = f"{self.file}: {self.rows} rows checked{via}; {', '.join(parts)}{note}{took}."
        return [head, *self._agency_lines(), *self._entity_lines(), *self._skipped_lines()]

    def _error_lines(self) -> list[str]:
        """The bad rows, each with its number and reason."""
        head = (
            f"error: {len(self.errors)} of {self.rows} rows of {self.file} are invalid; "
            "nothing was imported."
        )
        # A reason shared by many rows (a wrong parameter, a wrong map) is one line.
        by_reason: dict[str, list[int]] = {}
        for error in self.errors:
            by_reason.setdefault(error.message, []).append(error.row)
        lines: list[str] = []
        for error in self.errors:
            rows = by_reason[error.message]
            if len(rows) < GROUPED_FROM:
                lines.append(f"  {error}")
            elif rows[0] == error.row:
                lines.append(f"  {len(rows)} rows: {error.message}: rows {_numbers(rows)}")
        shown = lines[:MAX_ERRORS_SHOWN]
        more = len(lines) - len(shown)
        return [head, *shown, *([f"  ... and {more} more"] if more > 0 else [])]

    def _agency_lines(self) -> list[str]:
        """Agencies the mapping creates."""
        if not self.agencies_created:
            return []
        verb = "would create" if self.dry_run else "created"
        count = len(self.agencies_created)
        return [f"  agencies: {verb} {count}: {', '.join(self.agencies_created)}"]

    def _entity_lines(self) -> list[str]:
        """New and matched entities: counts, the first names, and merged spellings."""
        if not self.entities_new and not self.entities_matched:
            return []
        verb = "would create" if self.dry_run else "created"
        out = [
            f"  entities: {verb} {len(self.entities_new)} new, "
            f"matched {len(self.entities_matched)} already in the register"
        ]
        for label, items in (("new", self.entities_new), ("matched", self.entities_matched)):
            if items:
                out.append(f"    {label}: {_first(e.name for e in items)}")
        alike = [e for e in self.entities_new if e.resembles]
        for entity in alike[:NAMES_SHOWN]:
            out.append(
                f"    new, but resembles one in the register: {entity.name!r} ~ "
                + "; ".join(entity.resembles)
            )
        if len(alike) > NAMES_SHOWN:
            out.append(
                f"    ... and {len(alike) - NAMES_SHOWN} more new entities like existing ones"
            )
        merged = [e for e in [*self.entities_new, *self.entities_matched] if len(e.spellings) > 1]
        for entity in merged[:NAMES_SHOWN]:
            spellings = " = ".join(repr(s) for s in entity.spellings)
            out.append(f"    one entity, several spellings ({entity.rows} rows): {spellings}")
        if len(merged) > NAMES_SHOWN:
            out.append(
                f"    ... and {len(merged) - NAMES_SHOWN} more entities with several spellings"
            )
        return out

    def _skipped_lines(self) -> list[str]:
        """Skipped rows grouped by reason, with their row numbers."""
        groups: dict[str, list[SkippedRow]] = {}
        for row in self.skipped:
            groups.setdefault(row.reason, []).append(row)
        out = []
        for reason, rows in groups.items():
            numbers = _numbers([r.row for r in rows])
            out.append(f"  skipped {len(rows)} rows: {reason}: rows {numbers}")
        return out


def describe(exc: PortalError) -> str:
    """One line for a row's failure, naming each bad field."""
    if isinstance(exc.details, Mapping) and exc.details:
        return "; ".join(f"{key}: {reason}" for key, reason in exc.details.items())
    return exc.message


def _numbers(rows: list[int]) -> str:
    """Row numbers, the first few of them, with how many more there are."""
    shown = ", ".join(str(n) for n in rows[:ROW_NUMBERS_SHOWN])
    more = len(rows) - ROW_NUMBERS_SHOWN
    return shown + (f", ... ({more} more)" if more > 0 else "")


def _first(names: Iterable[str]) -> str:
    """The first few names, quoted, with how many more there are."""
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:NAMES_SHOWN])
    return shown + (
        f", ... and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    )
