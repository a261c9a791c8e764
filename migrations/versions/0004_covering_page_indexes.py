"""covering page indexes

Two indexes gain one column each, so that a page's count is read from the index
alone (docs/postgres-plans.md has the plans): the agency page counts an agency's
published records by category, the jurisdiction page counts its entities by band.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 14:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("entity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_entity_jurisdiction_kind_band", ["jurisdiction_code", "kind", "band"], unique=False
        )
        batch_op.drop_index("ix_entity_jurisdiction_kind")

    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_agency_status_category", ["agency_id", "status", "category"], unique=False
        )
        batch_op.drop_index("ix_record_agency_status")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.create_index("ix_record_agency_status", ["agency_id", "status"], unique=False)
        batch_op.drop_index("ix_record_agency_status_category")

    with op.batch_alter_table("entity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_entity_jurisdiction_kind", ["jurisdiction_code", "kind"], unique=False
        )
        batch_op.drop_index("ix_entity_jurisdiction_kind_band")
