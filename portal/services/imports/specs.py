"""Value specs of a column mapping: where one of our fields takes its value from, and how.

A spec is a fixed string, or a table with one source (`column`, `template`,
`value` or `param`) and options (`map`, `thresholds`, `patterns`, `date_format`,
`default`, `truncate`, `only_if`). docs/imports.md describes each.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from portal.errors import PortalError

SOURCES = ("column", "template", "value", "param")
SPEC_KEYS = (
    *SOURCES,
    "map",
    "otherwise",
    "keep_unmapped",
    "default",
    "date_format",
    "thresholds",
    "patterns",
    "truncate",
    "only_if",
)
_TEXT_OPTIONS = ("column", "template", "value", "param", "otherwise", "default", "only_if")


class MappingError(PortalError):
    """A mapping file is missing, is not valid TOML, or has a bad key or value."""


@dataclass(frozen=True)
class Threshold:
    """Numbers from `start` up (to the next threshold) map to `value`."""

    start: Decimal
    value: str


@dataclass(frozen=True)
class ValueSpec:
    """How one of our fields gets its value from a source row."""

    key: str
    column: str | None = None
    template: str | None = None
    value: str | None = None
    param: str | None = None
    map: dict[str, str] | None = None
    otherwise: str | None = None
    keep_unmapped: bool = False
    default: str | None = None
    date_format: str | None = None
    thresholds: tuple[Threshold, ...] = ()
    patterns: tuple[tuple[re.Pattern[str], str], ...] = ()
    truncate: int | None = None
    only_if: str | None = None

    def columns(self) -> set[str]:
        """The source columns this value reads."""
        found = {c for c in (self.column, self.only_if) if c}
        if self.template:
            found |= set(template_columns(self.template))
        return found

    def outputs(self) -> list[str]:
        """Every fixed value this spec can produce, to check when the mapping loads."""
        values = [self.value, self.otherwise, self.default, *(self.map or {}).values()]
        values += [t.value for t in self.thresholds] + [v for _, v in self.patterns]
        return [v for v in values if v]

    def source(self) -> str:
        """Where the value comes from, for messages: `column 'fine'`."""
        if self.column:
            return f"column {self.column!r}"
        if self.template:
            return f"template {self.template!r}"
        return f"parameter {self.param!r}" if self.param else "fixed value"


def template_columns(template: str) -> list[str]:
    """The column names a `{column}` template reads."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


class TomlReader:
    """Checks values of one TOML document, naming the file and key of every problem."""

    def __init__(self, path: Path) -> None:
        """Remember the file for messages."""
        self.path = path

    def fail(self, key: str, problem: str) -> MappingError:
        """An error naming the file and the key."""
        return MappingError(f"{self.path}: {key}: {problem}")

    def keys(self, raw: Any, key: str, allowed: Collection[str]) -> dict[str, Any]:
        """A table with only known keys."""
        if not isinstance(raw, dict):
            raise self.fail(key, "must be a table")
        for name in raw:
            if name not in allowed:
                expected = ", ".join(allowed)
                where = f"{key}.{name}" if key else name
                raise self.fail(where, f"unknown key (expected one of {expected})")
        return raw

    def text(self, value: Any, key: str, required: bool = False) -> str | None:
        """A string (non-empty when required); None when absent and optional."""
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, "must be a non-empty string" if required else "must be a string")
        return value

    def flag(self, value: Any, key: str) -> bool:
        """true or false."""
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def regex(self, value: Any, key: str) -> re.Pattern[str]:
        """A case-insensitive regular expression."""
        try:
            return re.compile(self.text(value, key, required=True) or "", re.IGNORECASE)
        except re.error as exc:
            raise self.fail(key, f"not a valid regular expression ({exc})") from None

    def spec(self, raw: Any, key: str, params: Collection[str]) -> ValueSpec:
        """A value spec: a fixed string, or a table with one source and options."""
        if isinstance(raw, str):
            return ValueSpec(key=key, value=raw)
        if not isinstance(raw, dict):
            raise self.fail(key, "must be a string (a fixed value) or a table")
        self.keys(raw, key, SPEC_KEYS)
        sources = [s for s in SOURCES if s in raw]
        if len(sources) != 1:
            raise self.fail(key, f"needs exactly one of {', '.join(SOURCES)}")
        if len([k for k in ("map", "thresholds", "patterns") if k in raw]) > 1:
            raise self.fail(key, "takes at most one of map, thresholds, patterns")
        if "param" in raw and raw["param"] not in params:
            raise self.fail(f"{key}.param", f"{raw['param']!r} is not declared under [params]")
        if "template" in raw:
            self.template(raw["template"], f"{key}.template")
        return ValueSpec(key=key, **self.spec_options(raw, key))

    def template(self, value: Any, key: str) -> None:
        """A template of plain `{column}` references."""
        self.text(value, key, required=True)
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as exc:
            raise self.fail(key, f"not a valid template ({exc})") from None
        for _, name, spec, conversion in parts:
            if name is not None and (not name or spec or conversion):
                raise self.fail(key, "takes plain {column} references only")

    def spec_options(self, raw: Mapping[str, Any], key: str) -> dict[str, Any]:
        """The checked options of a value spec."""
        out: dict[str, Any] = {
            name: self.text(raw[name], f"{key}.{name}", required=name != "value")
            for name in _TEXT_OPTIONS
            if name in raw
        }
        if "map" in raw:
            out["map"] = self.value_map(raw["map"], f"{key}.map")
        if "keep_unmapped" in raw:
            out["keep_unmapped"] = self.flag(raw["keep_unmapped"], f"{key}.keep_unmapped")
        if "date_format" in raw:
            out["date_format"] = self.date_format(raw["date_format"], f"{key}.date_format")
        if "thresholds" in raw:
            out["thresholds"] = self.thresholds(raw["thresholds"], f"{key}.thresholds")
        if "patterns" in raw:
            out["patterns"] = self.patterns(raw["patterns"], f"{key}.patterns")
        if "truncate" in raw:
            value = raw["truncate"]
            if not isinstance(value, int) or isinstance(value, bool) or value < 10:
                raise self.fail(f"{key}.truncate", "must be a whole number of at least 10")
            out["truncate"] = value
        return out

    def value_map(self, raw: Any, key: str) -> dict[str, str]:
        """Source value → our value; source values compare without case or outer spaces."""
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            raise self.fail(key, "must be a table of strings (source value = our value)")
        return {k.strip().casefold(): v for k, v in raw.items()}

    def date_format(self, value: Any, key: str) -> str:
        """A strptime format that writes and reads back a date."""
        text = self.text(value, key, required=True) or ""
        try:
            datetime.strptime(date(2001, 2, 3).strftime(text), text)  # noqa: DTZ007
        except ValueError as exc:
            raise self.fail(key, f"not a usable date format ({exc})") from None
        return text

    def thresholds(self, raw: Any, key: str) -> tuple[Threshold, ...]:
        """Ascending [{from = N, value = "word"}, ...]."""
        if not isinstance(raw, list) or not raw:
            raise self.fail(key, "must be a non-empty list of {from = N, value = ...}")
        out: list[Threshold] = []
        for i, item in enumerate(raw):
            where = f"{key}[{i}]"
            if not isinstance(item, dict) or set(item) != {"from", "value"}:
                raise self.fail(where, "must be {from = N, value = ...}")
            start = item["from"]
            if isinstance(start, bool) or not isinstance(start, int | float):
                raise self.fail(f"{where}.from", "must be a number")
            if out and Decimal(str(start)) <= out[-1].start:
                raise self.fail(f"{where}.from", "must be above the one before")
            value = self.text(item["value"], f"{where}.value", required=True) or ""
            out.append(Threshold(Decimal(str(start)), value))
        return tuple(out)

    def patterns(self, raw: Any, key: str) -> tuple[tuple[re.Pattern[str], str], ...]:
        """Ordered [{match = "regex", value = "word"}, ...]: the first match wins."""
        if not isinstance(raw, list) or not raw:
            raise self.fail(key, "must be a non-empty list of {match = regex, value = ...}")
        out = []
        for i, item in enumerate(raw):
            where = f"{key}[{i}]"
            if not isinstance(item, dict) or set(item) != {"match", "value"}:
                raise self.fail(where, "must be {match = regex, value = ...}")
            value = self.text(item["value"], f"{where}.value", required=True) or ""
            out.append((self.regex(item["match"], f"{where}.match"), value))
        return tuple(out)


def parse_number(value: str) -> Decimal:
    """A number as exports write it: `1,500.00`, `30000.0`; ValueError otherwise."""
    try:
        number = Decimal(value.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return number
