"""Issuing a report: the row that lets anyone verify a generated PDF by its id or its hash."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from portal.models import ReportIssue
from portal.services.access import Actor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssueFacts:
    """What a report is issued under: its id, subject, seq and time."""

    report_id: str
    kind: str
    entity_id: int | None
    seq: int
    created_at: datetime


def issue_report(session: Session, actor: Actor, facts: IssueFacts, sha256: str) -> ReportIssue:
    """Record a generated report in the caller's transaction.

    Anyone may have a report made (the public downloads them), so no rule refuses
    an actor; the row keeps none, as a report changes nothing in the register, and
    the log names who asked.
    """
    issue = ReportIssue(
        report_id=facts.report_id,
        entity_id=facts.entity_id,
        kind=facts.kind[:30],
        audit_seq=facts.seq,
        sha256=sha256,
        created_at=facts.created_at,
    )
    session.add(issue)
    log.info("issued report %s (%s) for %s", facts.report_id, issue.kind, actor.label)
    return issue
