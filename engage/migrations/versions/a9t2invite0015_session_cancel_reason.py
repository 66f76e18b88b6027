"""involvement sessions: why one session was called off

Revision ID: a9t2invite0015
Revises: a9t0involve0013
Create Date: 2026-12-06 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9t2invite0015'
down_revision = 'a9t0involve0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('involvement_sessions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'cancel_reason',
                sa.String(length=500),
                nullable=False,
                server_default='',
            )
        )


def downgrade():
    with op.batch_alter_table('involvement_sessions', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
