"""measurement stages

Each metric and each reach-figure label has a stage (input, output, outtake, outcome,
impact) and a unit, so that figures of different stages or units are never added
together. Existing metrics and labels take a sensible default.

Revision ID: a9q0stage0010
Revises: a9p0link0009
Create Date: 2026-12-06 08:40:00.000000

"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a9q0stage0010"
down_revision = "a9p0link0009"
branch_labels = None
depends_on = None

STAGES = ("input", "output", "outtake", "outcome", "impact")

# The defaults as they stood when this migration was written (the application's
# own, in engage.metrics.stages, may change later; a migration must not).
LABELS = {
    "recipients": ("output", "recipients", ""),
    "impressions": ("output", "impressions", ""),
    "visits": ("output", "visits", ""),
    "views": ("output", "views", ""),
    "readers": ("output", "readers", ""),
    "listeners": ("output", "listeners", ""),
    "viewers": ("output", "viewers", ""),
    "followers": ("output", "followers", ""),
    "copies": ("output", "copies", ""),
    "opens": ("outtake", "opens", "recipients"),
    "clicks": ("outtake", "clicks", "recipients"),
    "attendances": ("outtake", "attendances", ""),
    "attendees": ("outtake", "attendees", ""),
    "downloads": ("outtake", "downloads", ""),
    "engagements": ("outtake", "engagements", ""),
    "shares": ("outtake", "shares", ""),
    "joins": ("outcome", "joins", ""),
    "sign-ups": ("outcome", "sign-ups", ""),
    "survey responses": ("outcome", "survey responses", ""),
    "responses": ("outcome", "responses", ""),
}
OUTTAKE_WORDS = ("open", "click", "attend", "download", "engage", "share", "like")
OUTCOME_WORDS = ("join", "respons", "sign", "regist", "member")
METRICS = {
    "members-gold": "outcome",
    "members-silver": "outcome",
    "new-members": "outcome",
    "withdrawals": "outcome",
    "actions-completed": "input",
    "actions-overdue": "input",
    "audiences-due": "input",
    "survey-responses": "outcome",
    "survey-response-rate": "outcome",
    "media-coverage": "output",
}


def _clean(label):
    return " ".join(label.split()).lower()


def _guess(words):
    if any(word in words for word in OUTCOME_WORDS):
        return "outcome"
    if any(word in words for word in OUTTAKE_WORDS):
        return "outtake"
    return "output"


def _label(label):
    # An unknown label is its own unit, cut to the unit's 50 characters.
    return LABELS.get(label) or (_guess(label), label[:50].rstrip(), "")


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "x"


def upgrade():
    labels = op.create_table(
        "reach_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(*STAGES, name="stage", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("unit", sa.String(length=50), nullable=False),
        sa.Column("rate_of", sa.String(length=50), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reach_labels")),
        sa.UniqueConstraint("label", name=op.f("uq_reach_labels_label")),
    )
    with op.batch_alter_table("metrics") as batch:
        batch.add_column(
            sa.Column(
                "stage",
                sa.Enum(*STAGES, name="stage", native_enum=False, length=20),
                nullable=False,
                server_default="output",
            )
        )

    conn = op.get_bind()
    # Every label already used on a delivery, and Engage's known labels.
    used = {
        (channel, _clean(label))
        for channel, label in conn.execute(
            sa.text(
                "SELECT DISTINCT c.name, r.label FROM reach_figures r "
                "JOIN activities a ON a.id = r.activity_id "
                "JOIN actions ac ON ac.id = a.action_id "
                "JOIN channels c ON c.id = ac.channel_id"
            )
        )
        if label and label.strip()
    }
    keys = sorted(set(LABELS) | {label for _, label in used})
    if keys:
        op.bulk_insert(
            labels,
            [
                dict(zip(("label", "stage", "unit", "rate_of"), (k, *_label(k))))
                for k in keys
            ],
        )
    # Metrics made from delivery figures take their label's stage and unit.
    from_labels = {
        f"reach-{_slug(channel)}-{_slug(label)}": _label(label)[:2]
        for channel, label in used
    }
    metrics = sa.table(
        "metrics",
        sa.column("id", sa.Integer),
        sa.column("key", sa.String),
        sa.column("name", sa.String),
        sa.column("unit", sa.String),
        sa.column("stage", sa.String),
    )
    for id_, key, name, unit in conn.execute(
        sa.select(metrics.c.id, metrics.c.key, metrics.c.name, metrics.c.unit)
    ).all():
        if key in from_labels:
            stage, unit = from_labels[key]
        else:
            stage = METRICS.get(key) or _guess(f"{name} {unit}".lower())
        conn.execute(
            metrics.update()
            .where(metrics.c.id == id_)
            .values(stage=stage, unit=unit or "")
        )


def downgrade():
    with op.batch_alter_table("metrics") as batch:
        batch.drop_column("stage")
    op.drop_table("reach_labels")
