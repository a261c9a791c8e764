"""Load the versioned rulebooks and pick the one in force for a jurisdiction and date."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from scoring.model import Rulebook
from scoring.parse import DEFAULT_JURISDICTION, RulebookError, parse_rulebook

__all__ = [
    "DEFAULT_JURISDICTION",
    "RULEBOOK_DIR",
    "Rulebook",
    "RulebookError",
    "RulebookSet",
    "default_rulebooks",
    "load_rulebook",
    "load_rulebooks",
    "parent_jurisdiction",
]

RULEBOOK_DIR = Path(__file__).with_name("rulebooks")


def parent_jurisdiction(code: str) -> str | None:
    """Return the parent of an ISO 3166 code ("GB-WLS" → "GB"), or None at the top."""
    head, sep, _ = code.rpartition("-")
    return head if sep and head else None


def _family_order(rulebook: Rulebook) -> tuple[bool, str, date, str]:
    """Sort key: the default family first, then by code, then oldest version first."""
    return (
        rulebook.id != DEFAULT_JURISDICTION,
        rulebook.id,
        rulebook.effective_from,
        rulebook.version,
    )


@dataclass(frozen=True)
class RulebookSet:
    """Every loaded rulebook version, with selection by jurisdiction and date."""

    rulebooks: tuple[Rulebook, ...]

    def __post_init__(self) -> None:
        """Keep the versions in a stable order and refuse a set without a default."""
        object.__setattr__(self, "rulebooks", tuple(sorted(self.rulebooks, key=_family_order)))
        if not self.versions(DEFAULT_JURISDICTION):
            raise RulebookError(f'no rulebook with jurisdiction = "{DEFAULT_JURISDICTION}"')

    def __iter__(self) -> Iterator[Rulebook]:
        """Iterate over all rulebooks in ``all()`` order."""
        return iter(self.rulebooks)

    def __len__(self) -> int:
        """Return the number of rulebook versions."""
        return len(self.rulebooks)

    def all(self) -> tuple[Rulebook, ...]:
        """Return every version: default first, then by jurisdiction, oldest first."""
        return self.rulebooks

    def families(self) -> tuple[str, ...]:
        """Return the rulebook families (jurisdiction codes), default first."""
        return tuple(dict.fromkeys(r.id for r in self.rulebooks))

    def versions(self, family: str) -> tuple[Rulebook, ...]:
        """Return the versions of one family, oldest first."""
        return tuple(r for r in self.rulebooks if r.id == family)

    def get(self, family: str, version: str) -> Rulebook:
        """Return one exact version, e.g. to re-check a stored score; KeyError if unknown."""
        for rulebook in self.rulebooks:
            if rulebook.id == family and rulebook.version == version:
                return rulebook
        raise KeyError(f"no rulebook {family} {version}")

    def _in_force(self, family: str, on: date) -> Rulebook | None:
        """Return the latest version of ``family`` effective on ``on``, if any."""
        found = None
        for rulebook in self.versions(family):
            if rulebook.effective_from <= on:
                found = rulebook
        return found

    def select(
        self,
        jurisdiction: str,
        on: date,
        parents: Callable[[str], str | None] | None = None,
    ) -> Rulebook:
        """Return the rulebook in force on ``on`` for ``jurisdiction``, walking up its parents."""
        parent_of = parents or parent_jurisdiction
        seen: set[str] = set()
        code: str | None = jurisdiction
        while code is not None and code not in seen:
            seen.add(code)
            found = self._in_force(code, on)
            if found is not None:
                return found
            code = parent_of(code)
        # Before every default version there is still a rule to apply: the earliest one.
        return self._in_force(DEFAULT_JURISDICTION, on) or self.versions(DEFAULT_JURISDICTION)[0]

    def in_force(self, on: date) -> tuple[Rulebook, ...]:
        """Return the version in force on ``on`` of each family (the default always included)."""
        found = [self._in_force(family, on) for family in self.families()]
        found[0] = found[0] or self.versions(DEFAULT_JURISDICTION)[0]
        return tuple(r for r in found if r is not None)


def _read_toml(path: Path) -> dict[str, object]:
    """Parse one TOML file, reporting a syntax error with the offending line."""
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib names only a position; quoting the line names the key at fault.
        line = _quote_line(text, str(error))
        raise RulebookError(f"{path.name}: invalid TOML: {error}{line}") from None


def _quote_line(text: str, message: str) -> str:
    """Return ": `<line>`" for the line number in a tomllib message, or ""."""
    marker = "(at line "
    if marker not in message:
        return ""
    number = message.split(marker, 1)[1].split(",", 1)[0].rstrip(")")
    lines = text.splitlines()
    if not number.isdigit() or not 0 < int(number) <= len(lines):
        return ""
    return f": `{lines[int(number) - 1].strip()}`"


def load_rulebook(path: Path | str) -> Rulebook:
    """Load and validate one rulebook file."""
    path = Path(path)
    return parse_rulebook(_read_toml(path), path.name)


def _check_unique(rulebooks: Iterable[Rulebook]) -> None:
    """Refuse two files with the same (jurisdiction, version) or the same start date."""
    seen: dict[tuple[str, str], str] = {}
    starts: dict[tuple[str, date], str] = {}
    for rulebook in rulebooks:
        key = (rulebook.jurisdiction, rulebook.version)
        if key in seen:
            raise RulebookError(
                f"{rulebook.source}: version: {key[0]} {key[1]} is also defined in {seen[key]}"
            )
        seen[key] = rulebook.source
        start = (rulebook.jurisdiction, rulebook.effective_from)
        if start in starts:
            raise RulebookError(
                f"{rulebook.source}: effective_from: {start[0]} already has a version "
                f"starting {start[1].isoformat()} in {starts[start]}"
            )
        starts[start] = rulebook.source


def load_rulebooks(directory: Path | str | None = None) -> RulebookSet:
    """Load and validate every ``*.toml`` in ``directory`` (the shipped rulebooks by default)."""
    directory = Path(directory) if directory is not None else RULEBOOK_DIR
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise RulebookError(f"{directory}: no *.toml rulebooks found")
    rulebooks = [load_rulebook(path) for path in paths]
    _check_unique(rulebooks)
    try:
        return RulebookSet(tuple(rulebooks))
    except RulebookError as error:
        raise RulebookError(f"{directory}: jurisdiction: {error}") from None


@functools.cache
def default_rulebooks() -> RulebookSet:
    """Return the shipped rulebooks, loaded and validated once per process."""
    return load_rulebooks(RULEBOOK_DIR)
