"""international agencies

An agency may be an international body with no ISO 3166 jurisdiction (a
development bank, the UN, the EU): its jurisdiction may be empty.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.alter_column(
            "jurisdiction_code", existing_type=sa.String(length=10), nullable=True
        )


def downgrade() -> None:
    """Revert this revision (refused while an international agency exists)."""
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.alter_column(
            "jurisdiction_code", existing_type=sa.String(length=10), nullable=False
        )
