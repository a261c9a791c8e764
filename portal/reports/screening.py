"""The report of a screening: what was checked, against which state of the register.

Issued like every report (an id, a QR code, /verify), so that a screening can be
shown to an auditor later: the cover gives the data-as-of seq and date, the body
lists every name found as a match or possible match with the measures in force,
and the whole answer is attached as CSV.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from sqlmodel import Session

from portal.db import Database
from portal.errors import Conflict
from portal.reports.cache import ReportCache
from portal.reports.service import Content, ReportRequest, ServedReport, Subject, produce
from portal.services.screen_jobs import job_results, job_status, results_csv

# Names listed one by one in the PDF; the attached CSV has every one.
LISTED = 2000


def screening_pdf(
    db: Database,
    env: Environment,
    cache: ReportCache,
    request: ReportRequest,
    data_dir: str,
    job_id: str,
) -> ServedReport:
    """A finished screening's report, cached once made (its answers do not change)."""
    status = job_status(data_dir, job_id)
    if status["state"] != "done":
        raise Conflict("The screening has not finished; its report is made once it has.")

    def find(session: Session) -> Subject:
        """The screening, as of the change-log seq it was screened against."""
        filename = f"screening-{status['date']}-{job_id[:8]}.pdf"
        return Subject(f"screening-{job_id}", f"screening:{job_id}", None, status["seq"], filename)

    def read(session: Session) -> Content:
        """The names found, and the whole answer as CSV."""
        found, listed = [], 0
        for row in job_results(data_dir, job_id):
            if row["verdict"] in ("match", "possible match") and listed < LISTED:
                found.append(row)
                listed += 1
        context: dict[str, Any] = {
            "status": status,
            "found": found,
            "listed_max": LISTED,
            "doc_title": f"Screening of {status['total']:,} name"
            + ("" if status["total"] == 1 else "s"),
            "doc_description": "Names screened against the Accountability Portal register.",
            "doc_keywords": "screening, sanctions, debarment",
        }
        csv_text = "".join(results_csv(data_dir, job_id))
        attachment = ("screening.csv", csv_text, "Every name screened, with its verdict")
        return Content("reports/screening.html", context, [attachment])

    return produce(db, env, cache, request, find, read)
