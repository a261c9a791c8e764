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
        sa.CheckConstraint(
            "in_force_until IS NULL OR in_force_from IS NULL OR in_force_until >= in_force_from",
            name="in_force_order",
        ),
        sa.CheckConstraint(
            "(lifted_on IS NULL) = (lifted_reason IS NULL)", name="lifted_has_reason"
        ),
        sa.CheckConstraint(
            "(pending_lift_on IS NULL) = (pending_lift_reason IS NULL)",
            name="pending_lift_has_reason",
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
    # A measure in force for a period (scoring.model.MEASURES); until empty = until lifted.
    measure: str | None = Field(default=None, max_length=30, index=True)
    in_force_from: date | None = None
    in_force_until: date | None = None
    lifted_on: date | None = None
    lifted_reason: str | None = Field(default=None, sa_type=sa.Text)
    # A lift waiting for a second regulator where the agency requires four eyes.
    pending_lift_on: date | None = None
    pending_lift_reason: str | None = Field(default=None, sa_type=sa.Text)
    pending_lift_by_id: int | None = Field(default=None, foreign_key="user.id")
    # The case this record enforces: another agency's decision, named or in the register.
    case_agency: str | None = Field(default=None, max_length=200)
    case_id: str | None = Field(default=None, max_length=200)
    case_record_id: int | None = Field(default=None, foreign_key="record.id")
    # Derived from the three above at write time: records with one key are one case.
    case_key: str | None = Field(default=None, max_length=420, index=True)
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
