"""duplicate decisions

Pairs of entities an administrator has said are not the same, so that the
duplicates page never proposes them again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "duplicatedecision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("low_id", sa.Integer(), nullable=False),
        sa.Column("high_id", sa.Integer(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "low_id < high_id", name=op.f("ck_duplicatedecision_duplicate_pair_order")
        ),
        sa.ForeignKeyConstraint(
            ["high_id"], ["entity.id"], name=op.f("fk_duplicatedecision_high_id_entity")
        ),
        sa.ForeignKeyConstraint(
            ["low_id"], ["entity.id"], name=op.f("fk_duplicatedecision_low_id_entity")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicatedecision")),
        sa.UniqueConstraint("low_id", "high_id", name=op.f("uq_duplicate_decision_pair")),
    )
    with op.batch_alter_table("duplicatedecision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duplicatedecision_high_id"), ["high_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("duplicatedecision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duplicatedecision_high_id"))
    op.drop_table("duplicatedecision")
