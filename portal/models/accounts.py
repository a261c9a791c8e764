"""People who sign in, and the API tokens of regulators."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.models.base import enum_field, utcnow
from portal.models.enums import Role


class User(SQLModel, table=True):
    """An admin, a regulator of one agency, or a representative of one entity."""

    __table_args__ = (
        sa.CheckConstraint(
            "role != 'regulator' OR agency_id IS NOT NULL", name="regulator_has_agency"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    display_name: str | None = Field(default=None, max_length=200)
    password_hash: str = Field(max_length=300)
    role: Role = enum_field(Role, "user_role")
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    entity_id: int | None = Field(default=None, foreign_key="entity.id")
    active: bool = True
    session_version: int = 1
    totp_secret: str | None = Field(default=None, max_length=64)
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A regulator's bearer token; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    label: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
