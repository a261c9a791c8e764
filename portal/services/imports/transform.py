"""One source row through a column mapping: our record and entity columns, or a reason to skip."""

from __future__ import annotations

import hashlib
import json
import string
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from portal.errors import ValidationFailed
from portal.services.fields import FieldError
from portal.services.imports.mapping import ColumnMapping
from portal.services.imports.specs import MappingError, ValueSpec, parse_number

PLACEHOLDER_REASON = "names no organisation (a placeholder the mapping declares)"


@dataclass(frozen=True)
class Skip:
    """A row the mapping says not to import, and why."""

    reason: str
    detail: str | None = None


@dataclass(frozen=True)
class MappedRow:
    """A source row in our columns: the agency slug, the entity's fields, the record's."""

    agency: str | None
    entity: dict[str, str | None]
    record: dict[str, str | None]


def check_params(mapping: ColumnMapping, given: Mapping[str, str]) -> dict[str, str]:
    """The mapping's parameters with defaults; refuse unknown and missing ones."""
    for name in given:
        if name not in mapping.params:
            declared = ", ".join(mapping.params) or "none"
            raise MappingError(
                f"mapping {mapping.name} has no parameter {name!r} (it declares: {declared})."
            )
    values = {name: decl.default for name, decl in mapping.params.items()}
    values.update({k: v.strip() for k, v in given.items()})
    for name, value in values.items():
        if not value:
            about = mapping.params[name].description
            raise MappingError(
                f"mapping {mapping.name} needs --param {name}=VALUE"
                + (f": {about}" if about else ".")
            )
    return {k: v for k, v in values.items() if v}


class RowMapper:
    """Applies one mapping to the rows of one file."""

    def __init__(self, mapping: ColumnMapping, params: Mapping[str, str]) -> None:
        """Check the parameters once; count repeated rows for stable hashed source ids."""
        self.mapping = mapping
        self.params = check_params(mapping, params)
        self._seen: Counter[str] = Counter()

    def apply(self, raw: Mapping[str, str | None]) -> MappedRow | Skip:
        """Our columns for one row, or a Skip; raise ValidationFailed naming each bad field."""
        row = self.repaired(raw)
        for rule in self.mapping.skip:
            if rule.matches(row.get(rule.column, "")):
                return Skip(rule.reason, row.get(rule.column) or None)
        errors: dict[str, str] = {}
        entity = self._values(self.mapping.entity, row, errors)
        name = entity.get("name")
        if name and self.mapping.is_placeholder(name):
            return Skip(PLACEHOLDER_REASON, name)
        agency = self._value(self.mapping.agency, row, errors) if self.mapping.agency else None
        record = self._values(self.mapping.record, row, errors)
        if errors:
            raise ValidationFailed("The row cannot be mapped.", errors)
        if not record.get("source_id"):
            record["source_id"] = self.row_hash(raw)
        entity["kind"] = entity.get("kind") or "business"
        return MappedRow(agency=agency, entity=entity, record=record)

    def repaired(self, raw: Mapping[str, str | None]) -> dict[str, str]:
        """Every cell as text with the mapping's repairs of garbled characters applied."""
        row = {}
        for key, value in raw.items():
            text = value or ""
            for garbled, fixed in self.mapping.repair:
                if garbled in text:
                    text = text.replace(garbled, fixed)
            row[key] = text
        return row

    def row_hash(self, raw: Mapping[str, str | None]) -> str:
        """A source id for files without one: a hash of the row as read, numbered on repeats.

        Identical rows (the same restaurant cited twice alike) stay two records:
        the second gets `-2`, and so on, in file order, so re-reading the same
        file gives the same ids.
        """
        doc = json.dumps({k: v or "" for k, v in raw.items()}, sort_keys=True, ensure_ascii=False)
        digest = "h-" + hashlib.sha256(doc.encode()).hexdigest()[:24]
        self._seen[digest] += 1
        count = self._seen[digest]
        return digest if count == 1 else f"{digest}-{count}"

    def _values(
        self, specs: Mapping[str, ValueSpec], row: Mapping[str, str], errors: dict[str, str]
    ) -> dict[str, str | None]:
        """Each field's value; problems go into `errors` under the field's name."""
        return {name: self._value(spec, row, errors) for name, spec in specs.items()}

    def _value(
        self,
        spec: ValueSpec,
        row: Mapping[str, str],
        errors: dict[str, str],
    ) -> str | None:
        """One field's value, or None with its problem noted."""
        try:
            return evaluate(spec, row, self.params)
        except FieldError as exc:
            errors[spec.key] = f"{exc} ({spec.source()})"
            return None


def evaluate(spec: ValueSpec, row: Mapping[str, str], params: Mapping[str, str]) -> str | None:
    """The value a spec gives for one row; FieldError when the source value does not fit."""
    if spec.only_if and not row.get(spec.only_if, "").strip():
        return None
    value = _source_value(spec, row, params).strip()
    if not value:
        return spec.default
    if spec.map is not None:
        value = _mapped(spec, value)
    elif spec.thresholds:
        value = _threshold(spec, value)
    elif spec.patterns:
        value = _patterned(spec, value)
    if spec.date_format:
        try:
            value = datetime.strptime(value, spec.date_format).date().isoformat()  # noqa: DTZ007
        except ValueError:
            raise FieldError(f"{value!r} is not a date as {spec.date_format}") from None
    return shorten(value, spec.truncate) if spec.truncate else value


def _source_value(spec: ValueSpec, row: Mapping[str, str], params: Mapping[str, str]) -> str:
    """The raw text a spec reads: a cell, a filled template, a fixed value or a parameter."""
    if spec.column:
        return row.get(spec.column, "")
    if spec.template:
        return fill_template(spec.template, row)
    if spec.param:
        return params.get(spec.param, "")
    return spec.value or ""


def fill_template(template: str, row: Mapping[str, str]) -> str:
    """`{column}` replaced by each cell; empty when every cell it reads is empty."""
    parts = list(string.Formatter().parse(template))
    cells = [row.get(name, "").strip() for _, name, _, _ in parts if name is not None]
    if cells and not any(cells):
        return ""
    out = []
    for literal, name, _, _ in parts:
        out.append(literal.replace("{{", "{").replace("}}", "}"))
        if name is not None:
            out.append(row.get(name, "").strip())
    return "".join(out)


def _mapped(spec: ValueSpec, value: str) -> str:
    """A value through the spec's map (case-insensitive)."""
    found = (spec.map or {}).get(value.casefold())
    if found is not None:
        return found
    if spec.otherwise is not None:
        return spec.otherwise
    if spec.keep_unmapped:
        return value
    raise FieldError(f"{value!r} is not in the mapping's map")


def _threshold(spec: ValueSpec, value: str) -> str:
    """The value of the highest threshold at or below a number."""
    try:
        number = parse_number(value)
    except ValueError as exc:
        raise FieldError(str(exc)) from None
    chosen = [t.value for t in spec.thresholds if number >= t.start]
    if not chosen:
        raise FieldError(f"{value} is below the lowest threshold ({spec.thresholds[0].start})")
    return chosen[-1]


def _patterned(spec: ValueSpec, value: str) -> str:
    """The value of the first pattern that matches."""
    for pattern, result in spec.patterns:
        if pattern.search(value):
            return result
    if spec.otherwise is not None:
        return spec.otherwise
    if spec.keep_unmapped:
        return value
    raise FieldError(f"{value!r} matches none of the mapping's patterns")


def shorten(text: str, limit: int) -> str:
    """Text cut to `limit` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"
