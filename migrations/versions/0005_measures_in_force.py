"""measures in force

A record may carry a measure in force for a period (a debarment, a suspension, a
listing), lifted early with a public reason (four eyes where the agency requires
them), and may name the case it enforces, so that one case published by several
agencies counts once. An entity's stored score says whether a sanction is in force.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("measure", _TEXT(length=30), nullable=True))
        batch_op.add_column(sa.Column("in_force_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("in_force_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("lifted_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("lifted_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("pending_lift_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("pending_lift_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("pending_lift_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("case_agency", _TEXT(length=200), nullable=True))
        batch_op.add_column(sa.Column("case_id", _TEXT(length=200), nullable=True))
        batch_op.add_column(sa.Column("case_record_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("case_key", _TEXT(length=420), nullable=True))
        batch_op.create_index(batch_op.f("ix_record_measure"), ["measure"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_case_key"), ["case_key"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_record_pending_lift_by_id_user"), "user", ["pending_lift_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_record_case_record_id_record"), "record", ["case_record_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_record_in_force_order"),
            "in_force_until IS NULL OR in_force_from IS NULL OR in_force_until >= in_force_from",
        )
        batch_op.create_check_constraint(
            op.f("ck_record_lifted_has_reason"), "(lifted_on IS NULL) = (lifted_reason IS NULL)"
        )
        batch_op.create_check_constraint(
            op.f("ck_record_pending_lift_has_reason"),
            "(pending_lift_on IS NULL) = (pending_lift_reason IS NULL)",
        )
    with op.batch_alter_table("entity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("under_sanction", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("sanction_note", _TEXT(length=300), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_entity_under_sanction"), ["under_sanction"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("entity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_under_sanction"))
        batch_op.drop_column("sanction_note")
        batch_op.drop_column("under_sanction")
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_record_pending_lift_has_reason"), type_="check")
        batch_op.drop_constraint(op.f("ck_record_lifted_has_reason"), type_="check")
        batch_op.drop_constraint(op.f("ck_record_in_force_order"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_record_case_record_id_record"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_record_pending_lift_by_id_user"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_record_case_key"))
        batch_op.drop_index(batch_op.f("ix_record_measure"))
        for column in (
            "case_key",
            "case_record_id",
            "case_id",
            "case_agency",
            "pending_lift_by_id",
            "pending_lift_reason",
            "pending_lift_on",
            "lifted_reason",
            "lifted_on",
            "in_force_until",
            "in_force_from",
            "measure",
        ):
            batch_op.drop_column(column)
