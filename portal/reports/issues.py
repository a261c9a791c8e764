"""Issued reports: their ids, and the checks anyone can run.

Every generated PDF gets a report id printed on it; its sha256 and the
change-log seq it reflects are stored in ReportIssue (by
`portal.services.report_issues`), so that a copy can be checked by id (the QR
code) or by uploading the file.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import func
from sqlmodel import Session, select

from portal.models import Agency, AuditEvent, Entity, ReportIssue
from portal.services.public import records_in_view
from portal.services.search.documents import head_seq

# Crockford's base32: no I, L, O or U, so an id read off paper is not misread.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_SHAPE = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$")


def new_report_id() -> str:
    """A random 80-bit id in four groups, e.g. 7KQ2-M9XD-4TZA-HC3P."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def normalise_report_id(text: str) -> str | None:
    """A report id as typed (any case, O for 0, I or L for 1), or None if it is no id."""
    cleaned = text.strip().upper().replace("O", "0").replace("I", "1").replace("L", "1")
    return cleaned if _ID_SHAPE.match(cleaned) else None


def sha256_of(data: bytes) -> str:
    """The hex sha256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def entity_seq(session: Session, entity_id: int) -> int:
    """The newest change-log seq about one entity (0 when none)."""
    query = select(func.max(AuditEvent.seq)).where(AuditEvent.entity_id == entity_id)
    return session.exec(query).one() or 0


def issue_by_id(session: Session, report_id: str) -> ReportIssue | None:
    """The issue with this id, or None."""
    return session.get(ReportIssue, report_id)


def issue_by_hash(session: Session, sha256: str) -> ReportIssue | None:
    """The issue of the file with this hash, or None."""
    return session.exec(select(ReportIssue).where(ReportIssue.sha256 == sha256)).first()


@dataclass
class Verdict:
    """What the verify page says about one issued report."""

    issue: ReportIssue
    subject: str
    entity: Entity | None
    current_seq: int
    current_url: str | None

    @property
    def changed(self) -> bool:
        """Whether the data the report covers has changed since it was made."""
        return self.current_seq > self.issue.audit_seq

    @property
    def created_at(self) -> datetime:
        """When the report was made."""
        return self.issue.created_at


def verdict(session: Session, issue: ReportIssue) -> Verdict:
    """Describe an issued report: its subject, and whether its data has changed since."""
    if issue.entity_id is not None:
        entity = session.get(Entity, issue.entity_id)
        seq = entity_seq(session, issue.entity_id)
        if entity is None or not records_in_view(entity):
            # An official's records leave public view after the retention period: so does
            # the name behind a report about them.
            return Verdict(issue, "an entity no longer in public view", None, seq, None)
        url = f"/entities/{quote(entity.slug)}/report.pdf"
        return Verdict(issue, entity.name, entity, seq, url)
    kind, _, value = issue.kind.partition(":")
    subject, url = _summary_subject(session, kind, value)
    return Verdict(issue, subject, None, head_seq(session), url)


def _summary_subject(session: Session, kind: str, value: str) -> tuple[str, str | None]:
    """A summary report's subject in words, and the address of its current version."""
    if kind == "agency" and value.isdigit():
        agency = session.get(Agency, int(value))
        if agency:
            return f"Summary of {agency.name}", f"/agencies/{agency.slug}/report.pdf"
    if kind == "jurisdiction" and value:
        return f"Summary of jurisdiction {value}", f"/jurisdictions/{quote(value)}/report.pdf"
    if kind == "sector" and value:
        return f"Summary of the {value} sector", f"/reports/sector/{quote(value)}.pdf"
    if kind == "screening":
        # The list screened is its sender's: the check names no link to it.
        return "A screening of a list of names against the register", None
    return "A summary report", None


def find_verdict(session: Session, report_id: str) -> Verdict | None:
    """The verdict on a report id, or None when no such report was issued."""
    issue = issue_by_id(session, report_id)
    return verdict(session, issue) if issue else None


def verdict_for_file(session: Session, data: bytes) -> Verdict | None:
    """The verdict on an uploaded file, or None when its hash matches no issued report."""
    issue = issue_by_hash(session, sha256_of(data))
    return verdict(session, issue) if issue else None
