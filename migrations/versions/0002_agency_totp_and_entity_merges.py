"""agency totp and entity merges

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 11:06:56.531296
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('requires_totp', sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table('entity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_entity_merged_into_id_entity'), 'entity', ['merged_into_id'], ['id'])



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('entity', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_entity_merged_into_id_entity'), type_='foreignkey')
        batch_op.drop_column('merged_into_id')

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_column('requires_totp')

