"""mail requests

E-mails asked for by address (password resets, manage links) are recorded by the
request and written after the response, so known and unknown addresses cost the
request the same.

Revision ID: a9m0mreq0007
Revises: a9i0date0006
Create Date: 2026-12-06 03:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a9m0mreq0007"
down_revision = "a9i0date0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mail_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_requests")),
    )


def downgrade():
    op.drop_table("mail_requests")
