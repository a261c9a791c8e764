"""PDF reports: what they print, how they are verified, cached, bounded and kept safe."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlmodel import func, select

from portal.cli import cli
from portal.models import (
    Agency,
    Appeal,
    AppealStatus,
    Entity,
    Record,
    RecordStatus,
    ReportIssue,
    Response,
)
from portal.reports import bounded, service
from portal.reports.charts import bar_chart
from portal.reports.fetcher import STATIC_DIR, RefusedURL, StaticFetcher
from portal.reports.issues import normalise_report_id
from portal.reports.pdf import PdfJob
from portal.services.records import publish_record
from portal.services.scores import refresh_score
from tests.factories import OPERATOR, csrf_token, make_agency, make_entity, make_record

HOSTILE = '<img src="file:///etc/hostname"> url(file:///etc/passwd) </td><b>x</b>'


def _ago(days: int) -> str:
    """A date `days` before today, as text."""
    return (date.today() - timedelta(days=days)).isoformat()


def _entity(db, n: int = 3, name: str = "Acme Widgets Ltd", **record_fields) -> tuple[str, list]:
    """An entity with n published records; returns its slug and the records."""
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session, name=name, registration_id="01234567", sector="retail")
        records = [
            make_record(
                session,
                agency,
                entity,
                publish=False,
                title=f"Finding number {i}",
                decided_on=_ago(20 + i),
                **record_fields,
            )
            for i in range(n)
        ]
        for record in records:
            publish_record(session, OPERATOR, record, rescore=False)
        refresh_score(session, entity.id)
        return entity.slug, records


def _reply(db, record: Record, body: str) -> None:
    """Publish the entity's reply to a record."""
    with db.writing() as session:
        session.add(Response(record_id=record.id, entity_id=record.entity_id, body=body))


def _appeal(db, record: Record, status: AppealStatus) -> None:
    """File an appeal against a record, already in `status`."""
    with db.writing() as session:
        session.add(
            Appeal(record_id=record.id, entity_id=record.entity_id, grounds="Wrong", status=status)
        )


def _pages(data: bytes) -> list[str]:
    """The text of each page of a PDF."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _flat(text: str) -> str:
    """Text without line breaks or runs of spaces (table cells wrap)."""
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def qr_payloads(monkeypatch):
    """Every payload passed to the QR code generator."""
    seen: list[str] = []
    original = service.qr_svg

    def spy(payload: str):
        """Keep the payload, then draw the code."""
        seen.append(payload)
        return original(payload)

    monkeypatch.setattr(service, "qr_svg", spy)
    return seen


@pytest.fixture
def renders(monkeypatch):
    """The results of every rendering (each asks weasyprint once)."""
    seen: list = []
    original = service.render

    def spy(job, settings):
        """Render as usual and keep the result."""
        result = original(job, settings)
        seen.append(result)
        return result

    monkeypatch.setattr(service, "render", spy)
    return seen


def test_entity_report_prints_cover_records_replies_and_verify_link(client, db, qr_payloads):
    slug, records = _entity(db, 3, penalty_amount="12500", penalty_currency="GBP")
    _reply(db, records[0], "We have retrained every member of staff.")
    _appeal(db, records[1], AppealStatus.DISMISSED)
    page = client.get(f"/entities/{slug}/report.pdf")
    assert page.status_code == 200 and page.mimetype == "application/pdf"
    report_id = page.headers["X-Report-Id"]
    pages = _pages(page.data)
    text = _flat(" ".join(pages))
    assert "Acme Widgets Ltd" in text and "01234567" in text and "Business" in text
    assert "United Kingdom (GB)" in text
    score = re.search(r"Score (\d+\.\d\d) ?out of a baseline of 100", text)
    assert score and f"Why the score is {score.group(1)}" in text
    api = client.get(f"/api/v1/entities/{slug}").get_json()["score"]
    assert score.group(1) == f"{api['value']:.2f}"
    assert re.search(rf"Band {api['band']} ?: {api['band_label']}", text)
    for record in records:
        assert record.ref in text
    assert "We have retrained every member of staff." in text
    assert "Appeal: dismissed, the finding stands" in text
    assert "Penalty: 12,500.00 GBP" in text and "Methodology: rulebook GB" in text
    assert f"Page 1 of {len(pages)}" in pages[0] and f"Report {report_id}" in pages[1]
    verify_url = f"http://localhost/verify/{report_id}"
    assert qr_payloads == [verify_url]
    assert verify_url in text.replace("verify/ ", "verify/")


def test_entity_report_is_tagged_pdf_ua_with_title_language_and_score_data(client, db):
    slug, _records = _entity(db, 1)
    reader = PdfReader(io.BytesIO(client.get(f"/entities/{slug}/report.pdf").data))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en" and root["/MarkInfo"]["/Marked"]
    assert "/StructTreeRoot" in root
    assert reader.metadata.title == "Acme Widgets Ltd: accountability report"
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()
    assert list(reader.attachments) == ["score.json"]
    assert b'"band_label"' in reader.attachments["score.json"][0]


def test_pdfa_variant_for_archiving(client, db):
    slug, _records = _entity(db, 1)
    page = client.get(f"/entities/{slug}/report.pdf?variant=pdfa")
    xmp = PdfReader(io.BytesIO(page.data)).trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
    assert client.get(f"/entities/{slug}/report.pdf?variant=word").status_code == 422


def test_a_cached_report_is_not_rendered_again_and_answers_conditional_gets(client, db, renders):
    slug, _records = _entity(db, 2)
    first = client.get(f"/entities/{slug}/report.pdf")
    second = client.get(f"/entities/{slug}/report.pdf")
    assert len(renders) == 1
    assert second.data == first.data
    assert second.headers["X-Report-Id"] == first.headers["X-Report-Id"]
    etag = first.headers["ETag"]
    again = client.get(f"/entities/{slug}/report.pdf", headers={"If-None-Match": etag})
    assert again.status_code == 304 and len(renders) == 1
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(ReportIssue)).one() == 1


def test_verify_page_says_genuine_then_changed_after_a_new_record(client, db):
    slug, records = _entity(db, 1)
    report_id = client.get(f"/entities/{slug}/report.pdf").headers["X-Report-Id"]
    with db.writing() as session:
        make_record(
            session, make_agency(session, slug="fsa"), make_entity(session, name="Other plc")
        )
    html = client.get(f"/verify/{report_id.lower()}").get_data(as_text=True)
    assert "This report ID was issued by the register. Its data has not changed since." in html
    assert "Acme Widgets Ltd" in html and f"/entities/{slug}/report.pdf" in html
    with db.writing() as session:
        agency = session.get(Agency, records[0].agency_id)
        make_record(session, agency, session.get(Entity, records[0].entity_id))
    html = client.get(f"/verify/{report_id}").get_data(as_text=True)
    assert "Its data has changed since it was made." in html
    assert client.get(f"/entities/{slug}/report.pdf").headers["X-Report-Id"] != report_id


def test_verify_upload_accepts_the_genuine_file_and_rejects_a_changed_byte(client, db):
    slug, _records = _entity(db, 1)
    data = client.get(f"/entities/{slug}/report.pdf").data
    token = csrf_token(client, "/verify")

    def upload(content: bytes):
        """Post a file to the verify page."""
        form = {"csrf_token": token, "file": (io.BytesIO(content), "report.pdf")}
        return client.post("/verify", data=form, content_type="multipart/form-data")

    assert "This file is a genuine report of the register." in upload(data).get_data(as_text=True)
    middle = len(data) // 2
    altered = data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]
    answer = upload(altered).get_data(as_text=True)
    assert "does not match any report issued by the register" in answer


def test_an_upload_over_the_limit_gets_a_clear_message(app, client):
    app.config["REPORT_UPLOAD_MAX_BYTES"] = 100 * 1024
    token = csrf_token(client, "/verify")
    form = {"csrf_token": token, "file": (io.BytesIO(b"%PDF" + b"0" * 200_000), "big.pdf")}
    answer = client.post("/verify", data=form, content_type="multipart/form-data")
    assert answer.status_code == 413
    assert "The file is larger than 100 KB, the most this page accepts" in answer.get_data(
        as_text=True
    )


def test_an_unknown_report_id_is_not_genuine(client):
    assert client.get("/verify/AAAA-BBBB-CCCC-DDDD").status_code == 404
    assert client.get("/verify?report_id=nonsense").status_code == 404
    assert normalise_report_id(" 7kq2-m9xd-4tza-hcop ") == "7KQ2-M9XD-4TZA-HC0P"


def test_markup_and_urls_in_the_data_are_printed_literally_and_never_fetched(client, db, renders):
    source, link = "https://evil.example/track.png", '<link rel="attachment" href="file:///x">'
    slug, records = _entity(db, 1, name=f"Evil {HOSTILE}", summary=HOSTILE, source_url=source)
    _reply(db, records[0], link)
    data = client.get(f"/entities/{slug}/report.pdf").data
    bare = re.sub(r"\s+", "", " ".join(_pages(data)))
    for literal in (f"Evil {HOSTILE}", link, f"Source: {source}"):
        assert re.sub(r"\s+", "", literal) in bare
    assert list(PdfReader(io.BytesIO(data)).attachments) == ["score.json"]
    [result] = renders
    assert result.refused == []
    assert all(StaticFetcher().static_path(url) for url in result.requested)


def test_the_fetcher_serves_only_static_files():
    fetcher = StaticFetcher()
    css = (STATIC_DIR / "css" / "print-report.css").as_uri()
    assert fetcher.fetch(css).read().startswith(b"/*")
    outside = [
        "file:///etc/hostname",
        (STATIC_DIR / ".." / "portal" / "config.py").as_uri(),
        "https://example.org/logo.png",
        "data:text/plain,hello",
        css + "?x=1",
    ]
    for url in outside:
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert fetcher.refused == outside


def _section(pages: list[str], start: str, end: str) -> list[str]:
    """The text of each page from the heading `start` to the heading `end`."""
    first = next(i for i, text in enumerate(pages) if start in text)
    last = next(i for i, text in enumerate(pages) if end in text and i >= first)
    part = pages[first : last + 1]
    part[0] = part[0][part[0].index(start) :]
    part[-1] = part[-1][: part[-1].index(end)]
    return part


def test_two_hundred_records_paginate_with_repeated_headers(client, db):
    slug, records = _entity(db, 200)
    pages = _pages(client.get(f"/entities/{slug}/report.pdf").data)
    assert len(pages) >= 12 and all(f"of {len(pages)}" in text for text in pages)
    explanation = _section(pages, "Why the score is", "What changes next")
    listing = _section(pages, "Records that count", "Methodology: rulebook")
    assert len(explanation) > 3 and len(listing) > 3
    assert all("Base" in text and "Counts until" in text for text in explanation if "R-" in text)
    assert all("Appeal and reply from the entity" in text for text in listing if "R-" in text)
    for number, record in enumerate(records):
        [page] = [text for text in listing if record.ref in text]
        assert re.search(rf"Finding number {number}\b", page), record.ref


def test_rendering_is_bounded_in_time_and_memory():
    job = PdfJob('<html lang="en"><title>t</title>' + "<p>Paragraph</p>" * 4000 + "</html>")
    with pytest.raises(bounded.ReportTooLarge, match="took too long"):
        bounded.render_in_child(job, timeout_s=0.05, memory_mb=512)
    with pytest.raises(bounded.ReportTooLarge, match="too large to produce"):
        bounded.render_in_child(job, timeout_s=30, memory_mb=1)


def test_a_report_over_the_bounds_is_a_clear_503(app, client, db):
    slug, _records = _entity(db, 1)
    app.config["REPORT_MEMORY_MB"] = 1
    page = client.get(f"/entities/{slug}/report.pdf")
    assert page.status_code == 503
    assert "too large to produce" in page.get_data(as_text=True)


def test_a_full_disk_never_leaves_a_half_written_report(app, client, db, monkeypatch, renders):
    slug, _records = _entity(db, 1)

    def full(*_args, **_kwargs):
        """Fail as a full disk does."""
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("portal.reports.cache.os.replace", full)
    page = client.get(f"/entities/{slug}/report.pdf")
    assert page.status_code == 200 and page.data.startswith(b"%PDF")
    left = [p.name for p in (Path(app.config["DATA_DIR"]) / "reports").rglob("*") if p.is_file()]
    assert left == []
    monkeypatch.undo()
    assert client.get(f"/entities/{slug}/report.pdf").status_code == 200 and len(renders) == 1


def test_agency_report_covers_its_period_and_appeal_outcomes(client, db):
    _slug, records = _entity(db, 2)
    _appeal(db, records[0], AppealStatus.GRANTED)
    today = date.today().isoformat()
    page = client.get(f"/agencies/ico/report.pdf?from={_ago(30)}&to={today}")
    text = _flat(" ".join(_pages(page.data)))
    assert "Information Commissioner's Office" in text and "Findings published (2)" in text
    assert all(r.ref in text for r in records)
    assert "Granted: the finding was overturned 1" in text
    empty = client.get(f"/agencies/ico/report.pdf?from={_ago(900)}&to={_ago(800)}")
    assert "No finding was published in this period." in _flat(" ".join(_pages(empty.data)))
    assert client.get("/agencies/ico/report.pdf?from=yesterday").status_code == 422


def test_jurisdiction_and_sector_reports_show_bands_penalties_and_categories(client, db):
    _slug, records = _entity(db, 2, penalty_amount="900000", penalty_currency="GBP")
    with db.writing() as session:
        session.get(Record, records[0].id).status = RecordStatus.UNDER_APPEAL
    for url in ("/jurisdictions/gb/report.pdf", "/reports/sector/retail.pdf?jurisdiction=GB"):
        text = _flat(" ".join(_pages(client.get(url).data)))
        assert "Entities by score band" in text and "Largest penalties in GBP" in text
        assert "900,000.00" in text and "data protection" in text
    assert client.get("/jurisdictions/XX/report.pdf").status_code == 404
    assert client.get("/reports/sector/mining.pdf").status_code == 404


def test_officials_out_of_public_view_are_left_out_of_every_report(client, db):
    with db.writing() as session:
        agency = make_agency(session, categories=["conduct_in_office"])
        official = make_entity(
            session,
            name="Former Mayor",
            kind="official",
            role_title="Mayor",
            term_start="2001-01-01",
            term_end="2010-01-01",
        )
        make_record(
            session,
            agency,
            official,
            category="conduct_in_office",
            title="Gifts not declared",
            penalty_amount="5000",
            penalty_currency="GBP",
            decided_on="2009-06-01",
        )
        slug = official.slug
    page = client.get(f"/entities/{slug}/report.pdf")
    assert page.status_code == 404 and "left public view" in page.get_data(as_text=True)
    for url in ("/jurisdictions/GB/report.pdf", "/agencies/ico/report.pdf"):
        summary = client.get(url)
        assert summary.status_code == 200, summary.get_data(as_text=True)[-2000:]
        text = _flat(" ".join(_pages(summary.data)))
        assert "Former Mayor" not in text and "Gifts not declared" not in text


def test_cli_writes_the_report_and_records_its_issue(app, db, tmp_path):
    slug, _records = _entity(db, 1)
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    out = tmp_path / "report.pdf"
    args = ["report", slug, "-o", str(out), "--base-url", "https://register.example"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    report_id = re.search(r"Report (\S+) written", result.output).group(1)
    with db.session() as session:
        issue = session.get(ReportIssue, report_id)
    assert issue is not None and issue.sha256 in result.output
    assert "https://register.example/verify/" in _flat(_pages(out.read_bytes())[0])
    missing = CliRunner().invoke(cli, ["report", "nobody", "-o", str(out)], env=env)
    assert missing.exit_code != 0


def test_chart_labels_are_escaped():
    svg = bar_chart([("<script>alert(1)</script>", 3)], 'Title "quoted" <b>')
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
