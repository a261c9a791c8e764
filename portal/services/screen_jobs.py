"""Screening an uploaded list of up to 10,000 names, in the background, with progress.

The list is read and checked whole before anything runs (a missing name column
or a list that is too long is refused at once). The names are then screened in
chunks by a thread of the worker that received the upload; each chunk's answers
are appended to the job's folder, so memory stays bounded whatever the list, and
any worker can show the progress and the results. A job whose thread stopped
(a restart) is shown as stopped, never as running for ever.

A job's folder is named by a random id: the list and its answers are seen only
by whoever holds the link, and are deleted with `portal retention apply` after
JOB_DAYS.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import secrets
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from portal.db import Database
from portal.errors import NotFound, PortalError
from portal.models import utcnow
from portal.services.countries import UnknownCountry, country_code
from portal.services.imports.read import decode
from portal.services.screening import ScreenQuery, ScreenResult, screen
from portal.services.search.documents import head_seq
from portal.services.search.index import SearchIndex
from portal.services.spreadsheets import spreadsheet_hint, xlsx_rows

log = logging.getLogger(__name__)

MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024
CHUNK = 200
JOB_DAYS = 30
# A running job whose status has not moved for this long has lost its thread.
STALE_S = 120
_JOB_ID = re.compile(r"^[0-9a-f]{24}$")
# Column names people give these fields, folded (case, spaces, punctuation).
COLUMNS = {
    "name": ("name", "company", "companyname", "supplier", "suppliername", "organisation",
             "organization", "entity", "counterparty", "firm", "nameofindividualorentity"),
    "jurisdiction": ("jurisdiction", "country", "countrycode", "nationality"),
    "registration_id": ("registrationid", "registrationnumber", "companynumber", "regno",
                        "registrationno", "lei", "vat"),
    "address": ("address",),
    "kind": ("kind", "type"),
}  # fmt: skip


def _fold(header: str) -> str:
    """A column name compared without case, spaces or punctuation."""
    return re.sub(r"[^0-9a-z]", "", header.casefold())


def _columns(header: list[str]) -> dict[str, str]:
    """Which column of the file holds each field; PortalError without a name column."""
    found: dict[str, str] = {}
    for field, names in COLUMNS.items():
        for column in header:
            if _fold(column) in names and field not in found:
                found[field] = column
    if "name" not in found:
        shown = ", ".join(repr(c) for c in header[:12]) or "none"
        raise PortalError(
            f"The list has no column of names: name one column 'name' (or company, supplier, "
            f"organisation). Its columns are {shown}."
        )
    return found


def _rows(data: bytes, filename: str) -> Iterator[dict[str, Any]]:
    """The rows of a CSV or XLSX upload as dictionaries."""
    if filename.lower().endswith(".xlsx"):
        for _number, _line, row in xlsx_rows(data):
            yield row
        return
    hint = spreadsheet_hint(data)
    if hint:
        raise PortalError(hint[0].upper() + hint[1:] + ".")
    text = decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error as exc:
        raise PortalError(f"Line {reader.line_num} is not valid CSV ({exc}).") from None


def read_names(data: bytes, filename: str) -> tuple[list[ScreenQuery], int]:
    """The names of an uploaded list, and how many rows had no name; PortalError if unusable."""
    if len(data) > MAX_BYTES:
        raise PortalError(f"The list is larger than {MAX_BYTES // 1024 // 1024} MB.")
    rows = _rows(data, filename)
    first = next(rows, None)
    if first is None:
        raise PortalError("The list is empty: it has no row below its header.")
    columns = _columns([str(k) for k in first if k is not None])
    queries, blank = [], 0
    for row in _chain(first, rows):
        query = _query(row, columns)
        if query is None:
            blank += 1
            continue
        queries.append(query)
        if len(queries) > MAX_ROWS:
            raise PortalError(f"The list has more than {MAX_ROWS:,} names; split it.")
    if not queries:
        raise PortalError("No row of the list has a name.")
    return queries, blank


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The first row, then the others."""
    yield first
    yield from rest


def _query(row: dict[str, Any], columns: dict[str, str]) -> ScreenQuery | None:
    """One row as a query, or None when it has no name."""
    values = {f: " ".join(str(row.get(c) or "").split())[:200] or None for f, c in columns.items()}
    if not values.get("name"):
        return None
    place = values.get("jurisdiction")
    if place:
        try:
            values["jurisdiction"] = place.upper() if len(place) == 2 else country_code(place)
        except UnknownCountry:
            values["jurisdiction"] = None  # screened on the name alone
    return ScreenQuery(**values)  # type: ignore[arg-type]


def _folder(data_dir: str, job_id: str) -> Path:
    """A job's folder; only a well-formed id names one."""
    if not _JOB_ID.match(job_id or ""):
        raise NotFound("No such screening.")
    return Path(data_dir) / "screenings" / job_id


def _write_status(folder: Path, status: dict[str, Any]) -> None:
    """Replace the job's status atomically."""
    partial = folder / "status.json.partial"
    partial.write_text(json.dumps(status, ensure_ascii=False))
    partial.replace(folder / "status.json")


def start_job(
    data_dir: str, db: Database, index: SearchIndex, queries: list[ScreenQuery], filename: str
) -> str:
    """Keep the list, start screening it in the background; the job's id."""
    job_id = secrets.token_hex(12)
    folder = Path(data_dir) / "screenings" / job_id
    folder.mkdir(parents=True)
    # Answers from an index still catching up (after a bulk import) may miss new entries.
    current = index.refresh()
    with db.session() as session:
        seq = head_seq(session)
    today = utcnow().date()
    status = {
        "state": "running", "total": len(queries), "done": 0, "filename": filename[:200],
        "seq": seq, "date": today.isoformat(), "started": time.time(), "counts": {},
        "index_current": current,
    }  # fmt: skip
    _write_status(folder, status)
    thread = threading.Thread(
        target=_run, args=(folder, db, index, queries, status), name=f"screen-{job_id}", daemon=True
    )
    thread.start()
    return job_id


def _run(
    folder: Path, db: Database, index: SearchIndex, queries: list[ScreenQuery], status: dict
) -> None:
    """Screen the list chunk by chunk, appending answers and moving the status on."""
    counts: Counter[str] = Counter()
    today = utcnow().date()
    try:
        with (folder / "results.jsonl").open("a", encoding="utf-8") as out:
            for start in range(0, len(queries), CHUNK):
                with db.session() as session:
                    results = screen(session, index, queries[start : start + CHUNK], today)
                for result in results:
                    counts[result.verdict] += 1
                    out.write(json.dumps(result_row(result), ensure_ascii=False) + "\n")
                out.flush()
                _write_status(folder, {**status, "done": start + len(results), "counts": counts})
        seconds = round(time.time() - status["started"], 1)
        _write_status(folder, {**status, "state": "done", "done": len(queries),
                               "counts": counts, "seconds": seconds})  # fmt: skip
    except Exception:
        log.exception("screening %s stopped", folder.name)
        _write_status(folder, {**status, "state": "failed", "counts": counts})


def result_row(result: ScreenResult) -> dict[str, Any]:
    """One answer as it is kept: the query, the verdict, the candidates."""
    return {
        "query": {k: v for k, v in asdict(result.query).items() if v},
        "verdict": result.verdict,
        "candidates": [asdict(c) for c in result.candidates],
    }


def job_status(data_dir: str, job_id: str) -> dict[str, Any]:
    """The job's progress; a running job whose thread is gone is shown as stopped."""
    path = _folder(data_dir, job_id) / "status.json"
    if not path.is_file():
        raise NotFound("No such screening: it may have expired.")
    status: dict[str, Any] = json.loads(path.read_text())
    if status["state"] == "running" and time.time() - path.stat().st_mtime > STALE_S:
        status["state"] = "stopped"
    return status


def job_results(data_dir: str, job_id: str) -> Iterator[dict[str, Any]]:
    """The answers kept so far, in the order of the list."""
    path = _folder(data_dir, job_id) / "results.jsonl"
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def results_csv(data_dir: str, job_id: str) -> Iterator[str]:
    """The answers as CSV: one line per name, its best candidate and measures in force."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ("name", "jurisdiction", "registration_id", "verdict", "score", "entity",
              "entity_name", "features", "band", "measures_in_force", "candidates")  # fmt: skip
    writer.writerow(header)
    for row in job_results(data_dir, job_id):
        best = row["candidates"][0] if row["candidates"] else {}
        measures = "; ".join(
            f"{m['measure']} by {m['agency']} until {m['until'] or 'lifted'}"
            for m in best.get("measures", [])
        )
        query = row["query"]
        writer.writerow(
            [_safe(query.get("name", "")), query.get("jurisdiction", ""),
             _safe(query.get("registration_id", "")), row["verdict"], best.get("score", ""),
             best.get("slug", ""), _safe(best.get("name", "")),
             ", ".join(best.get("features", [])), best.get("band") or "", _safe(measures),
             len(row["candidates"])]
        )  # fmt: skip
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


def _safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def purge_jobs(data_dir: str, now: float | None = None) -> int:
    """Delete screenings older than JOB_DAYS; how many."""
    root = Path(data_dir) / "screenings"
    if not root.is_dir():
        return 0
    cutoff = (now or time.time()) - JOB_DAYS * 86400
    gone = 0
    for folder in root.iterdir():
        status = folder / "status.json"
        if folder.is_dir() and (not status.exists() or status.stat().st_mtime < cutoff):
            shutil.rmtree(folder, ignore_errors=True)
            gone += 1
    return gone
