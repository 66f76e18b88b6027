"""survey import date order

A survey remembers how the dates of imported exports are written when a file cannot
tell (every day 12 or less): the answer given on an import's preview.

Revision ID: a9i0date0006
Revises: a8d1memb0005
Create Date: 2026-12-06 03:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a9i0date0006"
down_revision = "a8d1memb0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_day_first", sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_column("import_day_first")
