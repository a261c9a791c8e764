"""Column mappings: TOML files that translate an agency's own export into our import columns.

The format is described in docs/imports.md. Loading checks every key and value,
so that a mistake in a mapping fails before any row is read, with a message
that names the file and the key.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slugify import slugify

from portal.models import EntityKind, Nature, Severity
from portal.services import fields
from portal.services.imports.columns import (
    MAPPED_ENTITY_FIELDS,
    MAPPED_RECORD_FIELDS,
    REQUIRED_RECORD_FIELDS,
)
from portal.services.imports.specs import MappingError, TomlReader, ValueSpec
from search.names import name_key

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "mappings"
ENTITY_KEYS = (*MAPPED_ENTITY_FIELDS, "match", "placeholders", "placeholder_patterns")
MATCH_MODES = ("name", "name_and_address")
HEAD_KEYS = ("description", "format", "encoding", "delimiter")
TOP_KEYS = ("mapping", "params", "repair", "skip", "agency", "agencies", "entity", "record")
# Fields whose fixed and mapped values are checked when the mapping loads.
_CHECKS: dict[str, Callable[[str], object]] = {
    "severity": lambda v: fields.choice(v, Severity),
    "nature": lambda v: fields.choice(v, Nature),
    "kind": lambda v: fields.choice(v, EntityKind),
    "jurisdiction": fields.jurisdiction_code,
    "penalty_currency": fields.currency,
}


@dataclass(frozen=True)
class SkipRule:
    """Rows whose `column` matches are not imported; the report lists them with `reason`."""

    column: str
    reason: str
    equals: frozenset[str] = frozenset()
    empty: bool = False
    pattern: re.Pattern[str] | None = None

    def matches(self, value: str) -> bool:
        """True when a cell's (trimmed) value selects the row for skipping."""
        value = value.strip()
        if self.empty:
            return not value
        if self.pattern is not None:
            return bool(self.pattern.search(value))
        return value.casefold() in self.equals


@dataclass(frozen=True)
class AgencyDecl:
    """An agency the mapping creates, through create_agency, when it does not exist yet."""

    slug: str
    name: str
    jurisdiction: str
    categories: tuple[str, ...]
    requires_second_approval: bool = False


@dataclass(frozen=True)
class ParamDecl:
    """A value given at import time (`--param NAME=VALUE`), e.g. a date the file lacks."""

    name: str
    description: str
    default: str | None = None


@dataclass(frozen=True)
class ColumnMapping:
    """A loaded, checked mapping."""

    name: str
    path: Path
    description: str
    format: str | None
    encoding: str
    delimiter: str
    agency: ValueSpec | None
    agencies: dict[str, AgencyDecl]
    entity: dict[str, ValueSpec]
    match: str
    placeholders: frozenset[str]
    placeholder_patterns: tuple[re.Pattern[str], ...]
    record: dict[str, ValueSpec]
    skip: tuple[SkipRule, ...] = ()
    repair: tuple[tuple[str, str], ...] = ()
    params: dict[str, ParamDecl] = field(default_factory=dict)

    def columns(self) -> set[str]:
        """Every source column the mapping reads."""
        specs = [*self.entity.values(), *self.record.values(), self.agency]
        found = {c for spec in specs if spec for c in spec.columns()}
        return found | {rule.column for rule in self.skip}

    def is_placeholder(self, name: str) -> bool:
        """True when a name is one the mapping declares as naming no organisation."""
        if name_key(name) in self.placeholders:
            return True
        return any(p.search(name) for p in self.placeholder_patterns)


def shipped_mappings() -> list[str]:
    """Names of the mappings that come with the portal."""
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.toml"))


def find_mapping(name_or_path: str | Path) -> Path:
    """The file of a shipped mapping's name, or of a path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or len(path.parts) > 1:
        if not path.is_file():
            raise MappingError(f"{path}: no such mapping file.")
        return path
    shipped = MAPPINGS_DIR / f"{name_or_path}.toml"
    if not shipped.is_file():
        known = ", ".join(shipped_mappings()) or "none"
        raise MappingError(f"No mapping is named {str(name_or_path)!r}; shipped: {known}.")
    return shipped


def load_mapping(name_or_path: str | Path) -> ColumnMapping:
    """Load and check a mapping by shipped name or file path."""
    path = find_mapping(name_or_path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not a valid TOML file ({exc}).") from None
    return _Loader(path).mapping(doc)


class _Loader(TomlReader):
    """Reads the tables of one mapping document."""

    def mapping(self, doc: dict[str, Any]) -> ColumnMapping:
        """The whole mapping."""
        self.keys(doc, "", TOP_KEYS)
        head = self.keys(doc.get("mapping", {}), "mapping", HEAD_KEYS)
        params = self.params(doc.get("params", {}))
        entity = self.keys(doc.get("entity", {}), "entity", ENTITY_KEYS)
        agencies = self.agencies(doc.get("agencies", []))
        return ColumnMapping(
            name=self.path.stem,
            path=self.path,
            description=self.text(head.get("description"), "mapping.description") or "",
            format=self.choice(head.get("format"), "mapping.format", ("csv", "jsonl")),
            encoding=self.encoding(head.get("encoding", "utf-8-sig")),
            delimiter=self.delimiter(head.get("delimiter", ",")),
            agency=self.agency(doc, params),
            agencies=agencies,
            entity=self.entity(entity, params),
            match=self.choice(entity.get("match"), "entity.match", MATCH_MODES) or "name",
            placeholders=frozenset(name_key(n) for n in self.strings(entity, "placeholders")),
            placeholder_patterns=tuple(
                self.regex(p, "entity.placeholder_patterns")
                for p in self.strings(entity, "placeholder_patterns")
            ),
            record=self.record(doc.get("record"), params),
            skip=self.skip_rules(doc.get("skip", [])),
            repair=self.repair(doc.get("repair", {})),
            params=params,
        )

    def choice(self, value: Any, key: str, allowed: tuple[str, ...]) -> str | None:
        """One of a few words, or None when absent."""
        if value is None:
            return None
        if value not in allowed:
            raise self.fail(key, f"must be one of {', '.join(allowed)} (got {value!r})")
        return str(value)

    def encoding(self, value: Any) -> str:
        """A text encoding Python knows."""
        try:
            codecs.lookup(self.text(value, "mapping.encoding", required=True) or "")
        except LookupError:
            raise self.fail("mapping.encoding", f"unknown encoding {value!r}") from None
        return str(value)

    def delimiter(self, value: Any) -> str:
        """One character between CSV cells."""
        if not isinstance(value, str) or len(value) != 1:
            raise self.fail("mapping.delimiter", "must be one character")
        return value

    def strings(self, doc: Mapping[str, Any], key: str) -> list[str]:
        """A list of strings under [entity] (absent is empty)."""
        value = doc.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"entity.{key}", "must be a list of strings")
        return value

    def params(self, raw: Any) -> dict[str, ParamDecl]:
        """Declared import-time parameters, [params.NAME] each."""
        if not isinstance(raw, dict):
            raise self.fail("params", "must be a table of [params.NAME] tables")
        out = {}
        for name, body in raw.items():
            key = f"params.{name}"
            self.keys(body, key, ("description", "default"))
            description = self.text(body.get("description"), f"{key}.description") or ""
            default = self.text(body.get("default"), f"{key}.default")
            out[name] = ParamDecl(name=name, description=description, default=default)
        return out

    def agency(self, doc: Mapping[str, Any], params: dict[str, ParamDecl]) -> ValueSpec | None:
        """How each row's agency is chosen (absent: the import names one agency)."""
        if "agency" not in doc:
            return None
        spec = self.spec(doc["agency"], "agency", params)
        for value in spec.outputs():
            if slugify(value) != value:
                raise self.fail("agency", f"{value!r} is not an agency slug")
        return spec

    def record(self, raw: Any, params: dict[str, ParamDecl]) -> dict[str, ValueSpec]:
        """The [record] table: one value spec per record field."""
        body = self.keys(raw if raw is not None else {}, "record", MAPPED_RECORD_FIELDS)
        for name in REQUIRED_RECORD_FIELDS:
            if name not in body:
                raise self.fail(f"record.{name}", "is required")
        specs = {name: self.spec(value, f"record.{name}", params) for name, value in body.items()}
        self.check_outputs(specs, "record")
        return specs

    def entity(self, body: Mapping[str, Any], params: dict[str, ParamDecl]) -> dict[str, ValueSpec]:
        """The [entity] value specs; a name (or a slug) and a jurisdiction are required."""
        specs = {
            name: self.spec(body[name], f"entity.{name}", params)
            for name in MAPPED_ENTITY_FIELDS
            if name in body
        }
        if "name" not in specs and "slug" not in specs:
            raise self.fail("entity.name", "is required (or entity.slug for known entities)")
        if "name" in specs and "jurisdiction" not in specs:
            raise self.fail("entity.jurisdiction", "is required with entity.name")
        self.check_outputs(specs, "entity")
        return specs

    def check_outputs(self, specs: dict[str, ValueSpec], prefix: str) -> None:
        """Fixed and mapped values of checked fields must be valid before any row is read."""
        for name, spec in specs.items():
            check = _CHECKS.get(name)
            for value in spec.outputs() if check else []:
                try:
                    check(value)  # type: ignore[misc]
                except fields.FieldError as exc:
                    raise self.fail(f"{prefix}.{name}", f"{value!r} {exc}") from None

    def agencies(self, raw: Any) -> dict[str, AgencyDecl]:
        """The [[agencies]] the mapping creates when missing."""
        if not isinstance(raw, list):
            raise self.fail("agencies", "must be an array of tables ([[agencies]])")
        out: dict[str, AgencyDecl] = {}
        for i, item in enumerate(raw):
            decl = self.agency_decl(item, f"agencies[{i}]")
            if decl.slug in out:
                raise self.fail(f"agencies[{i}].slug", f"{decl.slug!r} is declared twice")
            out[decl.slug] = decl
        return out

    def agency_decl(self, item: Any, key: str) -> AgencyDecl:
        """One declared agency."""
        allowed = ("slug", "name", "jurisdiction", "categories", "requires_second_approval")
        self.keys(item, key, allowed)
        slug = self.text(item.get("slug"), f"{key}.slug", required=True) or ""
        if slugify(slug) != slug:
            raise self.fail(f"{key}.slug", f"{slug!r} must be lower-case letters, digits, hyphens")
        try:
            code = fields.jurisdiction_code(item.get("jurisdiction"))
        except fields.FieldError as exc:
            raise self.fail(f"{key}.jurisdiction", str(exc)) from None
        categories = item.get("categories")
        if not isinstance(categories, list) or not categories:
            raise self.fail(f"{key}.categories", "must be a non-empty list of strings")
        return AgencyDecl(
            slug=slug,
            name=self.text(item.get("name"), f"{key}.name", required=True) or "",
            jurisdiction=code,
            categories=tuple(self.text(c, f"{key}.categories", True) or "" for c in categories),
            requires_second_approval=self.flag(
                item.get("requires_second_approval", False), f"{key}.requires_second_approval"
            ),
        )

    def skip_rules(self, raw: Any) -> tuple[SkipRule, ...]:
        """The [[skip]] rules, each with exactly one of equals, empty or pattern."""
        if not isinstance(raw, list):
            raise self.fail("skip", "must be an array of tables ([[skip]])")
        rules = []
        for i, item in enumerate(raw):
            key = f"skip[{i}]"
            self.keys(item, key, ("column", "reason", "equals", "empty", "pattern"))
            if len([k for k in ("equals", "empty", "pattern") if k in item]) != 1:
                raise self.fail(key, "needs exactly one of equals, empty, pattern")
            equals = item.get("equals", [])
            equals = [equals] if isinstance(equals, str) else equals
            if not isinstance(equals, list) or not all(isinstance(v, str) for v in equals):
                raise self.fail(f"{key}.equals", "must be a string or a list of strings")
            if "empty" in item and item["empty"] is not True:
                raise self.fail(f"{key}.empty", "must be true")
            rules.append(
                SkipRule(
                    column=self.text(item.get("column"), f"{key}.column", required=True) or "",
                    reason=self.text(item.get("reason"), f"{key}.reason", required=True) or "",
                    equals=frozenset(v.strip().casefold() for v in equals),
                    empty="empty" in item,
                    pattern=self.regex(item["pattern"], f"{key}.pattern")
                    if "pattern" in item
                    else None,
                )
            )
        return tuple(rules)

    def repair(self, raw: Any) -> tuple[tuple[str, str], ...]:
        """Text replacements applied to every cell, longest first."""
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            raise self.fail("repair", "must be a table of strings (garbled text = repaired text)")
        if "" in raw:
            raise self.fail("repair", "an empty string cannot be replaced")
        return tuple(sorted(raw.items(), key=lambda kv: -len(kv[0])))
