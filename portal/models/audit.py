"""The hash-chained change log, issued reports and named counters."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.models.base import utcnow


class AuditEvent(SQLModel, table=True):
    """One change, chained to the one before it by its hash."""

    __table_args__ = (
        sa.Index("ix_auditevent_entity_seq", "entity_id", "seq"),
        sa.Index("ix_auditevent_object", "object_type", "object_id"),
    )

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    occurred_at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=120)
    action: str = Field(max_length=60)
    object_type: str = Field(max_length=30)
    object_id: str = Field(max_length=120)
    entity_id: int | None = None
    payload: str = Field(sa_type=sa.Text)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class ReportIssue(SQLModel, table=True):
    """A generated PDF report, so that anyone can verify a copy of it."""

    report_id: str = Field(primary_key=True, max_length=40)
    entity_id: int | None = Field(default=None, foreign_key="entity.id", index=True)
    kind: str = Field(default="entity", max_length=30)
    audit_seq: int
    sha256: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Counter(SQLModel, table=True):
    """A named sequence, e.g. the public record numbers of one year."""

    name: str = Field(primary_key=True, max_length=60)
    value: int = 0
