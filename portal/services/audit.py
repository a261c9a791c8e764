"""The append-only, hash-chained change log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, text
from sqlmodel import Session, col, select

from portal.models import AuditEvent, utcnow
from portal.services.access import Actor

GENESIS_HASH = "0" * 64
_HEAD_KEY = "audit_head"


def _json_default(value: Any) -> Any:
    """Encode the non-JSON types that payloads carry."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot encode {type(value).__name__} in the change log")


def canonical_json(value: Any) -> str:
    """One spelling for equal data: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def event_hash(prev_hash: str, event_doc: Mapping[str, Any]) -> str:
    """sha256 of the previous hash followed by the canonical event document."""
    return hashlib.sha256((prev_hash + canonical_json(event_doc)).encode()).hexdigest()


def _event_doc(row: AuditEvent, payload: Any) -> dict[str, Any]:
    """The hashed content of an event: every column but the hashes."""
    return {
        "seq": row.seq,
        "occurred_at": row.occurred_at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "entity_id": row.entity_id,
        "payload": payload,
    }


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, transaction: Any) -> None:
    """A cached chain head is only valid inside the transaction that read it.

    A released savepoint keeps it (its events stay); a rolled-back one clears it
    (see `_forget_head_on_rollback`), and the end of the outer transaction too.
    """
    if transaction.parent is None:
        session.info.pop(_HEAD_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_head_on_rollback(session: Session, _previous: Any) -> None:
    """Events appended in a rolled-back savepoint are gone: read the head again."""
    session.info.pop(_HEAD_KEY, None)


def chain_head(session: Session) -> tuple[int, str]:
    """The last (seq, hash) of the chain, or (0, genesis) when it is empty."""
    row = session.exec(
        select(AuditEvent.seq, AuditEvent.hash).order_by(col(AuditEvent.seq).desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def _locked_head(session: Session) -> tuple[int, str]:
    """Read the head once per transaction, serialising appenders on PostgreSQL."""
    if _HEAD_KEY not in session.info:
        if session.get_bind().dialect.name == "postgresql":
            # SQLite writers are already serialised by BEGIN IMMEDIATE.
            session.connection().execute(text("SELECT pg_advisory_xact_lock(727274)"))
        session.info[_HEAD_KEY] = chain_head(session)
    return session.info[_HEAD_KEY]  # type: ignore[no-any-return]


def make_event(
    seq: int,
    prev_hash: str,
    actor_label: str,
    action: str,
    obj: tuple[str, str],
    payload: Mapping[str, Any],
    entity_id: int | None = None,
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Build the event that follows (seq - 1, prev_hash), with its hash."""
    clean_payload = json.loads(canonical_json(payload))
    row = AuditEvent(
        seq=seq,
        occurred_at=occurred_at or utcnow(),
        actor=actor_label,
        action=action,
        object_type=obj[0],
        object_id=obj[1],
        entity_id=entity_id,
        payload=canonical_json(clean_payload),
        prev_hash=prev_hash,
        hash="",
    )
    row.hash = event_hash(prev_hash, _event_doc(row, clean_payload))
    return row


def append_event(
    session: Session,
    actor: Actor,
    action: str,
    obj: tuple[str, str],
    payload: Mapping[str, Any],
    entity_id: int | None = None,
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain in the caller's transaction."""
    seq, prev_hash = _locked_head(session)
    row = make_event(seq + 1, prev_hash, actor.label, action, obj, payload, entity_id, occurred_at)
    session.add(row)
    session.info[_HEAD_KEY] = (row.seq, row.hash)
    return row


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain."""

    ok: bool
    events: int
    head_seq: int
    head_hash: str
    bad_seq: int | None = None
    reason: str | None = None
    contains_hash: bool | None = None


def _walk(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    """Stream every event in seq order without loading the log into memory."""
    last = 0
    while True:
        rows = session.exec(
            select(AuditEvent)
            .where(AuditEvent.seq > last)
            .order_by(col(AuditEvent.seq))
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify_chain(session: Session, against: str | None = None) -> ChainReport:
    """Check seq continuity, each link and each hash; name the first bad seq."""
    expected_seq, prev_hash, count, seen = 1, GENESIS_HASH, 0, against is None
    for row in _walk(session):
        problem = _check_row(row, expected_seq, prev_hash)
        if problem:
            return ChainReport(False, count, expected_seq - 1, prev_hash, row.seq, problem)
        seen = seen or row.hash == against
        expected_seq, prev_hash, count = row.seq + 1, row.hash, count + 1
    return ChainReport(True, count, expected_seq - 1, prev_hash, contains_hash=seen)


def _check_row(row: AuditEvent, expected_seq: int, prev_hash: str) -> str | None:
    """Return why one event breaks the chain, or None when it holds."""
    if row.seq != expected_seq:
        return f"expected seq {expected_seq}, found {row.seq} (an event is missing)"
    if row.prev_hash != prev_hash:
        return "prev_hash does not match the hash of the event before"
    try:
        payload = json.loads(row.payload)
    except ValueError:
        return "payload is not valid JSON"
    if event_hash(prev_hash, _event_doc(row, payload)) != row.hash:
        return "hash does not match the event's content"
    return None
