"""mailing copies wait before another try

A copy refused for now (the mail server busy, a rate limit) is tried again only after
a wait that grows with each try. A new, empty column: existing rows need nothing.

Revision ID: a9s7retry0000
Revises: a9s0mail0012
Create Date: 2026-12-06 12:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

import engage.db

# revision identifiers, used by Alembic.
revision = "a9s7retry0000"
down_revision = "a9s0mail0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mailing_recipients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_after", engage.db.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("mailing_recipients", schema=None) as batch_op:
        batch_op.drop_column("retry_after")
