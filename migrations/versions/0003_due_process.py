"""due process

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 11:18:17.531050
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'verified', 'rejected', name='claim_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_claim_decided_by_id_user')),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_claim_entity_id_entity')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_claim_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim'))
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_user_id'), ['user_id'], unique=False)

    op.create_table('correctionrequest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('proposed', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'applied', 'declined', name='request_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_correctionrequest_decided_by_id_user')),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_correctionrequest_entity_id_entity')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_correctionrequest_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correctionrequest'))
    )
    with op.batch_alter_table('correctionrequest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correctionrequest_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correctionrequest_user_id'), ['user_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('read_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('emailed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_record_published_by_id_user'), 'user', ['published_by_id'], ['id'])



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_record_published_by_id_user'), type_='foreignkey')
        batch_op.drop_column('published_by_id')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_user_id'))

    op.drop_table('notification')
    with op.batch_alter_table('correctionrequest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correctionrequest_user_id'))
        batch_op.drop_index(batch_op.f('ix_correctionrequest_entity_id'))

    op.drop_table('correctionrequest')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_user_id'))
        batch_op.drop_index(batch_op.f('ix_claim_entity_id'))

    op.drop_table('claim')
