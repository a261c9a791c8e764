"""Reading an import file: the size limit, the text encoding, CSV or JSON Lines rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from portal.errors import PortalError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
Source = Path | bytes
Row = tuple[int, int, dict[str, Any]]
HeaderCheck = Callable[[list[str]], None]


def source_name(source: Source, filename: str | None = None) -> str:
    """The name a report shows for a file or an upload."""
    if filename:
        return filename
    return source.name if isinstance(source, Path) else "upload"


def file_format(name: str, declared: str | None = None) -> str:
    """`csv` or `jsonl`: as declared, else from the file name's suffix."""
    if declared:
        return declared
    return "jsonl" if Path(name).suffix.lower() in JSON_SUFFIXES else "csv"


def read_source(source: Source, max_bytes: int | None = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a file or an upload, refused with a clear message above the size limit."""
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if max_bytes is not None and size > max_bytes:
        raise PortalError(
            f"the file is {_megabytes(size)}, more than the import limit of "
            f"{_megabytes(max_bytes)}; split it into smaller files or raise the limit"
        )
    try:
        return source.read_bytes() if isinstance(source, Path) else source
    except OSError as exc:
        raise PortalError(f"the file cannot be read ({exc.strerror})") from None


def _megabytes(size: int) -> str:
    """A size in MB with one decimal (1 MB = 1,048,576 bytes), or in bytes when small."""
    if size < 100 * 1024:
        return f"{size:,} bytes"
    return f"{size / 1024 / 1024:.1f} MB"


def decode(data: bytes, encoding: str = "utf-8-sig") -> str:
    """The file's text; a byte the encoding cannot read stops the import with its offset."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding.startswith("utf-8") else encoding
        raise PortalError(
            f"the file is not {name} text (byte {exc.start} cannot be read)"
        ) from None


def read_rows(
    text: str, fmt: str, check: HeaderCheck | None = None, delimiter: str = ","
) -> Iterator[Row]:
    """Yield (row number, line number, row) from CSV or JSON Lines text."""
    if fmt == "jsonl":
        yield from json_rows(text, check)
    else:
        yield from csv_rows(text, check, delimiter)


def csv_rows(text: str, check: HeaderCheck | None = None, delimiter: str = ",") -> Iterator[Row]:
    """Rows of CSV text with a header line; a broken file stops with its line number."""
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [c.strip() for c in reader.fieldnames or []]
        if check:
            check(header)
        for number, row in enumerate(reader, start=1):
            extra = row.pop(None, None)  # type: ignore[call-overload]
            clean = {k.strip(): v for k, v in row.items() if k is not None}
            if extra:
                clean["__error__"] = f"has {len(extra)} more cells than the header"
            yield number, reader.line_num, clean
    except csv.Error as exc:
        raise PortalError(f"line {reader.line_num} is not valid CSV ({exc})") from None


def json_rows(text: str, check: HeaderCheck | None = None) -> Iterator[Row]:
    """Rows of JSON Lines text, one object per non-empty line."""
    number = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        number += 1
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield number, line_no, {"__error__": f"is not valid JSON ({exc.msg})"}
            continue
        if not isinstance(obj, dict):
            yield number, line_no, {"__error__": "is not a JSON object"}
            continue
        if check:
            check(list(obj))
        yield number, line_no, {k: as_text(v) for k, v in obj.items()}


def as_text(value: Any) -> str | None:
    """JSON values as the strings the field parsers read."""
    if value is None:
        return None
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return str(value)


def known_columns(columns: tuple[str, ...]) -> HeaderCheck:
    """A header check refusing columns we do not know: they would be silently lost."""

    def check(found: list[str]) -> None:
        """Raise naming the unknown columns."""
        unknown = [c for c in found if c not in columns]
        if unknown:
            raise PortalError(
                f"unknown columns {', '.join(unknown)}; expected some of {', '.join(columns)}"
            )

    return check


def required_columns(needed: set[str], mapping_name: str) -> HeaderCheck:
    """A header check refusing files that lack a column the mapping reads."""

    def check(found: list[str]) -> None:
        """Raise naming the missing columns."""
        missing = sorted(needed - set(found))
        if missing:
            raise PortalError(
                f"the file lacks the column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(m) for m in missing)} that mapping {mapping_name} reads"
            )

    return check
