"""Findings about entities, their revisions, replies and appeals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.models.base import enum_field, utcnow
from portal.models.enums import AppealStatus, Nature, RecordStatus, Severity


class Record(SQLModel, table=True):
    """One finding (violation or commendation) as it currently stands."""

    __table_args__ = (
        sa.UniqueConstraint("agency_id", "source_id", name="uq_record_agency_source"),
        sa.Index("ix_record_entity_status", "entity_id", "status"),
        # category makes the agency page's count by category an index-only scan.
        sa.Index("ix_record_agency_status_category", "agency_id", "status", "category"),
        sa.CheckConstraint(
            "occurred_on IS NULL OR decided_on >= occurred_on", name="decided_after_occurred"
        ),
        sa.CheckConstraint(
            "penalty_amount IS NULL OR penalty_amount >= 0", name="penalty_positive"
        ),
        sa.CheckConstraint(
            "(penalty_amount IS NULL) = (penalty_currency IS NULL)", name="penalty_has_currency"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=20, unique=True)
    entity_id: int = Field(foreign_key="entity.id")
    agency_id: int = Field(foreign_key="agency.id")
    nature: Nature = enum_field(Nature, "record_nature", default=Nature.VIOLATION)
    category: str = Field(max_length=60)
    severity: Severity = enum_field(Severity, "record_severity")
    title: str = Field(max_length=300)
    summary: str | None = Field(default=None, sa_type=sa.Text)
    statute: str | None = Field(default=None, max_length=300)
    occurred_on: date | None = None
    decided_on: date
    published_at: datetime | None = Field(default=None, index=True)
    penalty_amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(16, 2))
    penalty_currency: str | None = Field(default=None, max_length=3)
    source_url: str | None = Field(default=None, max_length=1000)
    source_id: str | None = Field(default=None, max_length=200)
    remediated_on: date | None = None
    status: RecordStatus = enum_field(RecordStatus, "record_status", default=RecordStatus.DRAFT)
    revision: int = 1
    status_reason: str | None = Field(default=None, sa_type=sa.Text)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    published_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RecordRevision(SQLModel, table=True):
    """A published version of a record; a correction adds one, none is edited."""

    __table_args__ = (sa.UniqueConstraint("record_id", "revision", name="uq_record_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    revision: int
    fields: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=120)


class Response(SQLModel, table=True):
    """An entity's published reply to one record (the right of reply)."""

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    entity_id: int = Field(foreign_key="entity.id")
    author_id: int | None = Field(default=None, foreign_key="user.id")
    body: str = Field(sa_type=sa.Text)
    published_at: datetime = Field(default_factory=utcnow)
    hidden_at: datetime | None = None
    hidden_reason: str | None = Field(default=None, sa_type=sa.Text)
    hidden_by_id: int | None = Field(default=None, foreign_key="user.id")


class Appeal(SQLModel, table=True):
    """An entity's appeal against one record, decided by another agency user."""

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    entity_id: int = Field(foreign_key="entity.id")
    filed_by_id: int | None = Field(default=None, foreign_key="user.id")
    grounds: str = Field(sa_type=sa.Text)
    filed_at: datetime = Field(default_factory=utcnow)
    status: AppealStatus = enum_field(AppealStatus, "appeal_status", default=AppealStatus.OPEN)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = None
    decision_reason: str | None = Field(default=None, sa_type=sa.Text)
