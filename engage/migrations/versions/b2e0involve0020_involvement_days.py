"""involvement rollup by UK day and kind of activity

``involvement_days`` holds, per UK day and kind of activity, the sessions starting
that day that are not called off (nor their activity) and their attendances by
people involved, so the dashboard's involvement figures sum a few rows per day
instead of every session and attendance. It is filled here from the existing
sessions by the rule of engage.involvement.rollup (repeated here, so this migration
stays as it is when the code moves on), and kept by it.

Revision ID: b2e0involve0020
Revises: b2d0deliver0019
Create Date: 2026-12-07 22:50:00.000000

"""

from collections import Counter
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b2e0involve0020"
down_revision = "b2d0deliver0019"
branch_labels = None
depends_on = None

UK = ZoneInfo("Europe/London")


def upgrade():
    op.create_table(
        "involvement_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "meeting",
                "focus_group",
                "reference_group",
                "co_design",
                "public_event",
                name="activitykind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("attendances", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "kind", name=op.f("pk_involvement_days")),
    )
    _fill_involvement_days()


def _fill_involvement_days():
    sessions = sa.table(
        "involvement_sessions",
        sa.column("id"),
        sa.column("activity_id"),
        sa.column("starts_at", sa.DateTime()),
        sa.column("cancelled_at", sa.DateTime()),
    )
    activities = sa.table(
        "involvement_activities", sa.column("id"), sa.column("kind"), sa.column("status")
    )
    attendances = sa.table(
        "involvement_attendances", sa.column("session_id"), sa.column("user_id")
    )
    came = (
        sa.select(sa.func.count())
        .where(
            attendances.c.session_id == sessions.c.id,
            attendances.c.user_id.is_(None),
        )
        .scalar_subquery()
    )
    query = (
        sa.select(sessions.c.starts_at, activities.c.kind, came)
        .select_from(sessions)
        .join(activities, activities.c.id == sessions.c.activity_id)
        .where(sessions.c.cancelled_at.is_(None), activities.c.status != "cancelled")
    )
    counts = Counter()
    for starts_at, kind, n in op.get_bind().execute(query):
        day = starts_at.replace(tzinfo=UTC).astimezone(UK).date()
        counts[(day, kind, "sessions")] += 1
        counts[(day, kind, "attendances")] += int(n)
    rows = {}
    for (day, kind, name), n in counts.items():
        row = rows.setdefault(
            (day, kind), {"day": day, "kind": kind, "sessions": 0, "attendances": 0}
        )
        row[name] += n
    if rows:
        table = sa.table(
            "involvement_days",
            *(sa.column(c) for c in ("day", "kind", "sessions", "attendances")),
        )
        op.get_bind().execute(table.insert(), list(rows.values()))


def downgrade():
    op.drop_table("involvement_days")
