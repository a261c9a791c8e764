"""Claims to represent an entity, correction requests, and notifications."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.models.base import enum_field, utcnow
from portal.models.enums import ClaimStatus, RequestStatus


class Claim(SQLModel, table=True):
    """A person's request to represent an entity, verified or rejected by an admin."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    entity_id: int = Field(foreign_key="entity.id", index=True)
    evidence: str = Field(sa_type=sa.Text)
    status: ClaimStatus = enum_field(ClaimStatus, "claim_status", default=ClaimStatus.PENDING)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")


class CorrectionRequest(SQLModel, table=True):
    """A representative's request to correct an entity's details."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    entity_id: int = Field(foreign_key="entity.id", index=True)
    field: str = Field(max_length=30)
    proposed: str = Field(max_length=300)
    explanation: str = Field(sa_type=sa.Text)
    status: RequestStatus = enum_field(
        RequestStatus, "request_status", default=RequestStatus.PENDING
    )
    reason: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")


class Notification(SQLModel, table=True):
    """A message in a user's inbox, also e-mailed when SMTP is configured."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    message: str = Field(max_length=500)
    link: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None
    emailed_at: datetime | None = None
