"""Jurisdictions, agencies and the entities the register is about."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.models.base import enum_field, utcnow
from portal.models.enums import EntityKind


class Jurisdiction(SQLModel, table=True):
    """An ISO 3166 country or subdivision; it selects the rulebook."""

    code: str = Field(primary_key=True, max_length=10)
    name: str = Field(max_length=200)
    parent_code: str | None = Field(default=None, foreign_key="jurisdiction.code", max_length=10)


class Agency(SQLModel, table=True):
    """A regulator or oversight body that publishes findings."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=300)
    # None for an international body (a development bank, the UN, the EU).
    jurisdiction_code: str | None = Field(
        default=None, foreign_key="jurisdiction.code", max_length=10, index=True
    )
    categories: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    requires_second_approval: bool = False
    requires_totp: bool = False
    website: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)


class Entity(SQLModel, table=True):
    """A business, social organisation, government body or official in office."""

    __table_args__ = (
        # band makes the jurisdiction page's count by band an index-only scan.
        sa.Index("ix_entity_jurisdiction_kind_band", "jurisdiction_code", "kind", "band"),
        sa.Index("ix_entity_name_key_jurisdiction", "name_key", "jurisdiction_code"),
        sa.CheckConstraint(
            "term_end IS NULL OR term_start IS NULL OR term_end >= term_start", name="term_order"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    kind: EntityKind = enum_field(EntityKind, "entity_kind")
    name: str = Field(max_length=300)
    name_key: str = Field(max_length=300)
    registration_id: str | None = Field(default=None, max_length=100, index=True)
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", max_length=10)
    sector: str | None = Field(default=None, max_length=100)
    parent_id: int | None = Field(default=None, foreign_key="entity.id", index=True)
    address: str | None = Field(default=None, max_length=500)
    website: str | None = Field(default=None, max_length=500)
    role_title: str | None = Field(default=None, max_length=200)
    body_id: int | None = Field(default=None, foreign_key="entity.id", index=True)
    term_start: date | None = None
    term_end: date | None = None
    score: float | None = Field(default=None, index=True)
    band: str | None = Field(default=None, max_length=2, index=True)
    trusted: bool = False
    watchlist: bool = False
    # A sanction in force on the day the score was computed (debarred, suspended, listed).
    under_sanction: bool = Field(default=False, index=True)
    # What the public reads first: "Debarred by World Bank until 31 May 2027".
    sanction_note: str | None = Field(default=None, max_length=300)
    score_rulebook: str | None = Field(default=None, max_length=60)
    merged_into_id: int | None = Field(default=None, foreign_key="entity.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class EntityAlias(SQLModel, table=True):
    """Another name an entity is known by: an alias or a former name."""

    __table_args__ = (sa.UniqueConstraint("entity_id", "name", name="uq_entity_alias_name"),)

    id: int | None = Field(default=None, primary_key=True)
    entity_id: int = Field(foreign_key="entity.id", index=True)
    name: str = Field(max_length=300)
    name_key: str = Field(max_length=300, index=True)
    former: bool = False


class DuplicateDecision(SQLModel, table=True):
    """Two entities an administrator has said are not the same: never proposed again."""

    __table_args__ = (
        sa.UniqueConstraint("low_id", "high_id", name="uq_duplicate_decision_pair"),
        sa.CheckConstraint("low_id < high_id", name="duplicate_pair_order"),
    )

    id: int | None = Field(default=None, primary_key=True)
    low_id: int = Field(foreign_key="entity.id")
    high_id: int = Field(foreign_key="entity.id", index=True)
    decided_by: str = Field(max_length=120)
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
