"""deliveries rollups by day and month, channel and figures recorded

``delivery_days`` holds, per day, channel and set of figure labels a delivery
recorded, the deliveries and each figure's total (``delivery_months`` the same per
calendar month), so the dashboard's deliveries and reach sum a few rows per day
or month instead of every delivery and figure. They are filled here from the existing deliveries by the rule of engage.actions.rollup (repeated
here, so this migration stays as it is when the code moves on), and kept by it.

Revision ID: b2d0deliver0019
Revises: b1l0practice0018
Create Date: 2026-12-07 22:30:00.000000

"""

import json
from collections import Counter
from itertools import groupby
from operator import itemgetter

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b2d0deliver0019"
down_revision = "b1l0practice0018"
branch_labels = None
depends_on = None


TABLES = {"delivery_days": "day", "delivery_months": "month"}


def upgrade():
    for table, when in TABLES.items():
        op.create_table(
            table,
            sa.Column(when, sa.Date(), nullable=False),
            sa.Column("channel_id", sa.Integer(), nullable=False),
            sa.Column("labels", sa.Text(), nullable=False),
            sa.Column("label", sa.Text(), nullable=False),
            sa.Column("deliveries", sa.Integer(), nullable=False),
            sa.Column("total", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint(
                when, "channel_id", "labels", "label", name=op.f(f"pk_{table}")
            ),
        )
    _fill_delivery_rollups()


def _fill_delivery_rollups():
    activities = sa.table(
        "activities",
        sa.column("id"),
        sa.column("action_id"),
        sa.column("occurred_on", sa.Date()),
    )
    actions = sa.table("actions", sa.column("id"), sa.column("channel_id"))
    figures = sa.table(
        "reach_figures",
        sa.column("activity_id"),
        sa.column("label"),
        sa.column("value"),
    )
    query = (
        sa.select(
            activities.c.id,
            activities.c.occurred_on,
            actions.c.channel_id,
            sa.func.lower(figures.c.label),
            figures.c.value,
        )
        .select_from(activities)
        .join(actions, actions.c.id == activities.c.action_id)
        .outerjoin(figures, figures.c.activity_id == activities.c.id)
        .order_by(activities.c.id)
    )
    counts = Counter()
    bind = op.get_bind()
    for _, group in groupby(bind.execute(query), key=itemgetter(0)):
        recorded = Counter()
        for _, day, channel_id, label, value in group:
            if label is not None:
                recorded[label] += int(value)
        labels = json.dumps(sorted(recorded), ensure_ascii=False, separators=(",", ":"))
        for table, when in (
            ("delivery_days", day),
            ("delivery_months", day.replace(day=1)),
        ):
            counts[(table, when, channel_id, labels, "", "deliveries")] += 1
            for label, value in recorded.items():
                counts[(table, when, channel_id, labels, label, "deliveries")] += 1
                counts[(table, when, channel_id, labels, label, "total")] += value
    rows = {table: {} for table in TABLES}
    for (table, when, channel_id, labels, label, name), n in counts.items():
        row = rows[table].setdefault(
            (when, channel_id, labels, label),
            {
                TABLES[table]: when,
                "channel_id": channel_id,
                "labels": labels,
                "label": label,
                "deliveries": 0,
                "total": 0,
            },
        )
        row[name] += n
    for table, found in rows.items():
        if found:
            columns = (TABLES[table], "channel_id", "labels", "label", "deliveries")
            into = sa.table(table, *(sa.column(c) for c in columns), sa.column("total"))
            bind.execute(into.insert(), list(found.values()))


def downgrade():
    for table in TABLES:
        op.drop_table(table)
