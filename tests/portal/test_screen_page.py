"""The /screen page: a list uploaded, screened in the background, read, downloaded, verified."""

from __future__ import annotations

import csv
import io
import os
import time

import pytest
from openpyxl import Workbook
from pypdf import PdfReader

from portal.services.screen_jobs import purge_jobs
from tests.factories import csrf_token, make_agency, make_entity, make_record

pytestmark = pytest.mark.db


@pytest.fixture
def register(db):
    """A debarred firm and a clean one."""
    with db.writing() as session:
        bank = make_agency(session, "wb", name="World Bank", categories=["public_procurement"])
        firm = make_entity(session, "Sego Ventures Nigeria Ltd", jurisdiction="NG")
        make_entity(session, "Acme Widgets Ltd")
        make_record(
            session, bank, firm, category="public_procurement", severity="serious",
            title="Fraudulent practice", measure="debarment", in_force_until="2099-12-31",
        )  # fmt: skip


def _xlsx(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, data, filename):
    token = csrf_token(client, "/screen")
    return client.post(
        "/screen",
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _finished(client, location):
    for _ in range(200):
        html = client.get(location).get_data(as_text=True)
        if "Done:" in html or "stopped" in html:
            return html
        time.sleep(0.05)
    raise AssertionError("the screening did not finish")


def test_a_spreadsheet_of_suppliers_is_screened_and_the_debarred_one_named(client, register):
    data = _xlsx(
        [
            ["Supplier", "Country", "Contract"],
            ["SEGO VENTURES NIGERA LIMITED", "Nigeria", "A-17"],
            ["Acme Widgets Limited", "United Kingdom", "B-2"],
            ["Zyxwvut Quarkonium Holdings", "France", "C-9"],
            [None, None, "D-1"],
        ]
    )
    answer = _upload(client, data, "suppliers.xlsx")
    assert answer.status_code == 303
    html = _finished(client, answer.headers["Location"])
    assert "Done: 3 names screened" in html
    assert "1 row has no name and was left out." in html
    row = html[html.index("SEGO VENTURES NIGERA LIMITED") :]
    assert "Sego Ventures Nigeria Ltd" in row and "<strong>Debarment</strong> by World Bank" in row
    job = answer.headers["Location"].split("?")[0]
    lines = list(csv.DictReader(io.StringIO(client.get(f"{job}.csv").get_data(as_text=True))))
    assert [line["verdict"] for line in lines] == ["match", "match", "no match"]
    assert lines[0]["measures_in_force"] == "debarment by World Bank until 2099-12-31"


def test_the_screening_report_is_a_pdf_checked_at_verify(client, register):
    answer = _upload(client, b"name\nSego Ventures Nigeria Ltd\n", "list.csv")
    job = answer.headers["Location"].split("?")[0]
    _finished(client, job)
    pdf = client.get(f"{job}/report.pdf")
    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    words = " ".join(text.split())
    assert "Screening of 1 name " in words and "Register data as of: change-log seq" in words
    assert "Debarment by World Bank, until 2099-12-31" in words
    report_id = pdf.headers["X-Report-Id"]
    check = client.get(f"/verify/{report_id}").get_data(as_text=True)
    assert "A screening of a list of names against the register" in check


def test_a_list_without_names_or_too_long_is_refused_plainly(client, register):
    no_column = _upload(client, b"supplier_code,amount\nX1,100\n", "list.csv")
    assert no_column.status_code == 400
    assert "The list has no column of names" in no_column.get_data(as_text=True)
    empty = _upload(client, b"name\n", "list.csv")
    assert "The list is empty" in empty.get_data(as_text=True)
    workbook_as_text = _upload(client, _xlsx([["name"], ["Acme"]]), "list.csv")
    assert "Excel workbook (.xlsx)" in workbook_as_text.get_data(as_text=True)
    too_many = _upload(client, b"name\n" + b"Acme\n" * 10_001, "list.csv")
    assert "more than 10,000 names" in too_many.get_data(as_text=True)


def test_an_unknown_or_malformed_screening_is_not_found_and_old_ones_are_purged(
    app, client, register
):
    assert client.get("/screen/0123456789abcdef01234567").status_code == 404
    assert client.get("/screen/../../etc").status_code == 404
    answer = _upload(client, b"name\nAcme\n", "list.csv")
    job = answer.headers["Location"].split("?")[0]
    _finished(client, job)
    folder = os.path.join(app.config["DATA_DIR"], "screenings", job.rsplit("/", 1)[1])
    assert purge_jobs(app.config["DATA_DIR"]) == 0
    assert purge_jobs(app.config["DATA_DIR"], now=time.time() + 31 * 86400) == 1
    assert not os.path.exists(folder) and client.get(job).status_code == 404
