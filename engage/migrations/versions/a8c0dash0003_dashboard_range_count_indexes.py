"""dashboard range count indexes

Members' joins counted by index ranges (staff-added by created_at, the others by
confirmed_at), mentions of a tone in a period, survey responses per survey in
a period, invitations per survey answered or not, and a metric's months'
totals, without reading the tables.

Revision ID: a8c0dash0003
Revises: a8b0breach01
Create Date: 2026-11-26 10:20:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a8c0dash0003"
down_revision = "a8b0breach01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_members_joined_by_created_at", ["joined_by", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_members_confirmed_at_joined_by",
            ["confirmed_at", "joined_by"],
            unique=False,
        )
    with op.batch_alter_table("metric_months", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metric_months_metric_total",
            ["metric_id", "month", "total"],
            unique=False,
        )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mentions_tone_published", ["tone", "published_on"], unique=False
        )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_responses_survey_submitted",
            ["survey_id", "submitted_on"],
            unique=False,
        )
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_invitations_survey_answered",
            ["survey_id", "answered_at"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_invitations_survey_answered")
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_survey_submitted")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_mentions_tone_published")
    with op.batch_alter_table("metric_months", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_months_metric_total")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_confirmed_at_joined_by")
        batch_op.drop_index("ix_members_joined_by_created_at")
