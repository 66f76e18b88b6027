"""survey public link kept

A survey's public link is kept (as well as its hash), so staff can see it and its QR
code again.

Revision ID: a9p0link0009
Revises: a9o0org0008
Create Date: 2026-12-06 06:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a9p0link0009"
down_revision = "a9o0org0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("surveys") as batch:
        batch.add_column(sa.Column("public_token", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("surveys") as batch:
        batch.drop_column("public_token")
