"""The public page of one record: its fields, its history from the change log, replies, appeal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from portal.errors import NotFound
from portal.models import (
    ENDED_STATUSES,
    PUBLIC_STATUSES,
    Agency,
    Appeal,
    AuditEvent,
    Entity,
    Record,
    Response,
)
from portal.services.public import records_in_view

# Workflow steps before publication are not part of the public history.
PUBLIC_ACTIONS = {
    "record.published": "Published",
    "record.corrected": "Corrected",
    "record.remediated": "Remediation verified by the agency",
    "record.withdrawn": "Withdrawn by the agency",
    "appeal.filed": "Appeal filed",
    "appeal.decided": "Appeal decided",
    "response.published": "The organisation replied",
    "response.hidden": "A reply was hidden by the agency",
}


@dataclass
class HistoryEntry:
    """One public step in a record's life."""

    seq: int
    at: datetime
    action: str
    label: str
    reason: str | None
    changes: dict[str, dict[str, Any]]
    outcome: str | None


@dataclass
class RecordPage:
    """A record with everything its page shows."""

    record: Record
    entity: Entity
    agency: Agency
    history: list[HistoryEntry]
    responses: list[Response]
    appeal: Appeal | None

    @property
    def ended(self) -> bool:
        """Withdrawn or overturned: only a notice is shown, not the allegation."""
        return self.record.status in ENDED_STATUSES


def record_history(session: Session, ref: str) -> list[HistoryEntry]:
    """The record's public steps from the change log, oldest first."""
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.object_type == "record", AuditEvent.object_id == ref)
        .order_by(col(AuditEvent.seq))
    ).all()
    entries = []
    for event in events:
        if event.action not in PUBLIC_ACTIONS:
            continue
        payload = json.loads(event.payload)
        entries.append(
            HistoryEntry(
                seq=event.seq,
                at=event.occurred_at,
                action=event.action,
                label=PUBLIC_ACTIONS[event.action],
                reason=payload.get("reason"),
                changes=payload.get("changes") or {},
                outcome=payload.get("outcome"),
            )
        )
    return sorted(entries, key=lambda e: (e.at, e.seq))


def record_page(session: Session, ref: str) -> RecordPage:
    """A public (or publicly ended) record, or NotFound for drafts and unknown refs."""
    row = session.exec(
        select(Record, Entity, Agency)
        .join(Entity, col(Entity.id) == Record.entity_id)
        .join(Agency, col(Agency.id) == Record.agency_id)
        .where(Record.ref == ref)
    ).first()
    if row is None or row[0].status not in (*PUBLIC_STATUSES, *ENDED_STATUSES):
        raise NotFound(f"No published record has the ref {ref!r}.")
    record, entity, agency = row
    if not records_in_view(entity):
        raise NotFound(f"Record {ref} has left public view with the end of the retention period.")
    responses = session.exec(
        select(Response)
        .where(Response.record_id == record.id, col(Response.hidden_at).is_(None))
        .order_by(col(Response.published_at))
    ).all()
    appeal = session.exec(
        select(Appeal).where(Appeal.record_id == record.id).order_by(col(Appeal.id).desc())
    ).first()
    history = record_history(session, ref)
    return RecordPage(record, entity, agency, history, list(responses), appeal)
