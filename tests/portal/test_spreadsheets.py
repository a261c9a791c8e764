"""Excel workbooks read as published: the real DFAT list, named sheets, header rows."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook

from portal.errors import PortalError
from portal.services.spreadsheets import spreadsheet_hint, xlsx_rows
from tests.conftest import SHARED

DFAT = SHARED / "sanctions" / "australia-dfat-consolidated-list.xlsx"


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    """A small workbook made with openpyxl, one list of rows per sheet."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.skipif(not DFAT.is_file(), reason=f"the sanctions list is not in {SHARED}")
def test_the_dfat_workbook_reads_every_named_row_with_its_twelve_columns():
    rows = list(xlsx_rows(DFAT.read_bytes()))
    # 9,561 sheet rows below the header, of which 7 are blank.
    assert len(rows) == 9554
    number, line, first = rows[0]
    assert (number, line) == (1, 2)
    assert list(first)[:4] == ["Reference", "Name of Individual or Entity", "Type", "Name Type"]
    assert len(first) == 12
    # Control dates are datetimes at midnight in the workbook: read as plain dates.
    assert all(len(r["Control Date"]) == 10 for _n, _l, r in rows)
    qaida = [r for _n, _l, r in rows if r["Reference"] in ("155", "155a")]
    assert [r["Name Type"] for r in qaida] == ["Primary Name", "Original Script"]


def test_a_named_sheet_and_a_header_row_below_a_title():
    data = _workbook(
        {
            "Notes": [["not this one"]],
            "Debarred": [
                ["Debarred firms, as of 1 December 2026"],
                ["Firm", "Country", "From", "Count"],
                ["Sego Ventures Nigeria", "Nigeria", datetime(2024, 5, 1), 3.0],
                [None, None, None, None],
                ["MS Gul Construction Co.", "Pakistan", datetime(2025, 1, 2, 9, 30), 2.5],
            ],
        }
    )
    rows = list(xlsx_rows(data, sheet="Debarred", header_row=2))
    assert rows == [
        (
            1,
            3,
            {
                "Firm": "Sego Ventures Nigeria",
                "Country": "Nigeria",
                "From": "2024-05-01",
                "Count": "3",
            },
        ),
        (
            2,
            5,
            {
                "Firm": "MS Gul Construction Co.",
                "Country": "Pakistan",
                "From": "2025-01-02T09:30:00",
                "Count": "2.5",
            },
        ),
    ]
    with pytest.raises(PortalError, match="no sheet 'Firms'; its sheets are 'Notes', 'Debarred'"):
        list(xlsx_rows(data, sheet="Firms"))


def test_a_spreadsheet_given_as_text_is_named_for_what_it_is():
    data = _workbook({"Sheet1": [["a"]]})
    assert "Excel workbook (.xlsx)" in spreadsheet_hint(data)
    assert "97-2003" in spreadsheet_hint(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    assert spreadsheet_hint(b"name,kind\n") is None
    with pytest.raises(PortalError, match="not a readable Excel workbook"):
        list(xlsx_rows(b"PK\x03\x04 broken"))
