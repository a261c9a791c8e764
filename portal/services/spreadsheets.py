"""Excel workbooks as regulators publish them: rows of one sheet, read in bounded memory.

openpyxl's read-only mode streams the sheet's XML instead of building every cell,
so a workbook of 10,000 rows and 255 columns is read in about as much memory as
one row. Cells come out as the same text the CSV reader gives: dates as ISO dates,
whole numbers without a decimal point.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from portal.errors import PortalError

Row = tuple[int, int, dict[str, Any]]
HeaderCheck = Callable[[list[str]], None]

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"


def spreadsheet_hint(data: bytes) -> str | None:
    """What to say when a spreadsheet was given where text was expected, else None."""
    if data.startswith(_ZIP):
        return (
            "the file is an Excel workbook (.xlsx), not CSV or JSON Lines text; "
            'upload it with its .xlsx name or declare format = "xlsx" in the mapping'
        )
    if data.startswith(_OLE):
        return (
            "the file is an Excel 97-2003 workbook (.xls), which cannot be read; "
            "save it as .xlsx or CSV"
        )
    return None


def cell_text(value: Any) -> str | None:
    """A cell as the text the field parsers read."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_rows(
    data: bytes, sheet: str | None = None, header_row: int = 1, check: HeaderCheck | None = None
) -> Iterator[Row]:
    """Yield (row number, sheet row, row) of one sheet below its header row.

    Blank rows are left out; columns without a header are ignored, as empty as they
    usually are (the DFAT list has 243 of them).
    """
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise PortalError(f"the file is not a readable Excel workbook ({exc})") from None
    try:
        yield from _sheet_rows(book, sheet, header_row, check)
    finally:
        book.close()


def _sheet_rows(
    book: Any, sheet: str | None, header_row: int, check: HeaderCheck | None
) -> Iterator[Row]:
    """The rows of the named sheet (the first when None) under its header."""
    if sheet is not None and sheet not in book.sheetnames:
        names = ", ".join(repr(n) for n in book.sheetnames)
        raise PortalError(f"the workbook has no sheet {sheet!r}; its sheets are {names}")
    worksheet = book[sheet] if sheet is not None else book.worksheets[0]
    rows = worksheet.iter_rows(min_row=header_row, values_only=True)
    header_cells = next(rows, None)
    if header_cells is None:
        raise PortalError(f"the sheet has no row {header_row} to read the column names from")
    header = [(i, str(c).strip()) for i, c in enumerate(header_cells) if c not in (None, "")]
    if check:
        check([name for _i, name in header])
    number = 0
    for offset, cells in enumerate(rows, start=1):
        values = {name: cell_text(cells[i]) if i < len(cells) else None for i, name in header}
        if all(v is None or not v.strip() for v in values.values()):
            continue
        number += 1
        yield number, header_row + offset, values
