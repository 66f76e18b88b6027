"""board report commentary

The lead's commentary on a quarter's board report, one per quarter. A new table:
existing data needs nothing.

Revision ID: a9r0board0011
Revises: a9q0stage0010
Create Date: 2026-12-06 08:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a9r0board0011"
down_revision = "a9q0stage0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "board_commentaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_board_commentaries_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_commentaries")),
        sa.UniqueConstraint("quarter", name=op.f("uq_board_commentaries_quarter")),
    )


def downgrade():
    op.drop_table("board_commentaries")
