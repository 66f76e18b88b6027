"""Honest measurement: each reach figure's stage and unit, rates, and how figures read.

Engage follows the Government Communication Service evaluation framework: inputs,
outputs, outtakes, outcomes and impact. Reach is the output stage only (recipients,
impressions, visits…). An outtake such as opens or clicks is shown as a rate of its
output (opens ÷ recipients) where the same deliveries record both, else as a count
labelled with its stage. Figures of different stages or units are never added.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select

from engage.accounts.models import User
from engage.actions.models import Channel
from engage.actions.models import ReachFigure
from engage.audit.services import record_event
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.metrics.models import Metric
from engage.metrics.models import ReachLabel
from engage.metrics.models import Stage
from engage.metrics.numbers import rate

#: Labels Engage knows: label → (stage, unit, the output unit it is a rate of).
DEFAULT_LABELS: dict[str, tuple[Stage, str, str]] = {
    "recipients": (Stage.OUTPUT, "recipients", ""),
    "impressions": (Stage.OUTPUT, "impressions", ""),
    "visits": (Stage.OUTPUT, "visits", ""),
    "views": (Stage.OUTPUT, "views", ""),
    "readers": (Stage.OUTPUT, "readers", ""),
    "listeners": (Stage.OUTPUT, "listeners", ""),
    "viewers": (Stage.OUTPUT, "viewers", ""),
    "followers": (Stage.OUTPUT, "followers", ""),
    "copies": (Stage.OUTPUT, "copies", ""),
    # A mailing sent from Engage: copies sent, delivered (a delivery receipt) and
    # bounced, each in its own unit so they are never added to one another or to
    # other reach; its tracked opens and clicks are rates of the copies delivered.
    "sent": (Stage.OUTPUT, "sent", ""),
    "delivered": (Stage.OUTPUT, "delivered", ""),
    "bounced": (Stage.OUTPUT, "bounced", ""),
    "e-mail opens": (Stage.OUTTAKE, "e-mail opens", "delivered"),
    "e-mail clicks": (Stage.OUTTAKE, "e-mail clicks", "delivered"),
    # An involvement session: invitations sent (output), and people who came (an
    # outtake, a rate of those invited), each in its own unit.
    "invited": (Stage.OUTPUT, "invited", ""),
    "attended": (Stage.OUTTAKE, "attended", "invited"),
    "opens": (Stage.OUTTAKE, "opens", "recipients"),
    "clicks": (Stage.OUTTAKE, "clicks", "recipients"),
    "attendances": (Stage.OUTTAKE, "attendances", ""),
    "attendees": (Stage.OUTTAKE, "attendees", ""),
    "downloads": (Stage.OUTTAKE, "downloads", ""),
    "engagements": (Stage.OUTTAKE, "engagements", ""),
    "shares": (Stage.OUTTAKE, "shares", ""),
    "joins": (Stage.OUTCOME, "joins", ""),
    "sign-ups": (Stage.OUTCOME, "sign-ups", ""),
    "survey responses": (Stage.OUTCOME, "survey responses", ""),
    "responses": (Stage.OUTCOME, "responses", ""),
}

#: Words that place an unknown label (an outtake or outcome, rather than reach).
_OUTTAKE_WORDS = ("open", "click", "attend", "download", "engage", "share", "like")
_OUTCOME_WORDS = ("join", "respons", "sign", "regist", "member")


def clean(label: str) -> str:
    """A label as it is keyed: trimmed, single-spaced, lower case."""
    return " ".join(label.split()).lower()


@dataclass(frozen=True)
class LabelSetting:
    """What a reach figure's label counts."""

    label: str
    stage: Stage
    unit: str
    rate_of: str = ""
    #: False for a label no admin has set (the defaults apply).
    saved: bool = False
    #: The saved row's id (None when not saved).
    id: int | None = None

    @property
    def rate_name(self) -> str:
        """ "Open rate" for opens, "Click rate" for clicks."""
        return f"{singular(self.label).capitalize()} rate"


def singular(word: str) -> str:
    """A plain English singular of a label's last word ("opens" → "open")."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


#: The longest unit a label or metric keeps (its column's length).
UNIT_LENGTH = 50


def default_setting(label: str) -> LabelSetting:
    """The defaults for a label: Engage's own, else guessed from its words (an
    unknown label is output, counted in its own unit, so never added to another)."""
    key = clean(label)
    if key in DEFAULT_LABELS:
        stage, unit, rate_of = DEFAULT_LABELS[key]
        return LabelSetting(key, stage, unit, rate_of)
    stage = Stage.OUTPUT
    if any(word in key for word in _OUTCOME_WORDS):
        stage = Stage.OUTCOME
    elif any(word in key for word in _OUTTAKE_WORDS):
        stage = Stage.OUTTAKE
    # Its unit is the label itself, cut to fit a unit (a label may be twice as long).
    return LabelSetting(key, stage, key[:UNIT_LENGTH].rstrip())


def label_settings(labels: Iterable[str]) -> dict[str, LabelSetting]:
    """Each label's setting (saved by an admin, else the default), by cleaned label."""
    keys = {clean(label) for label in labels}
    if not keys:
        return {}
    saved = {
        row.label: LabelSetting(
            row.label, row.stage, row.unit, row.rate_of, True, row.id
        )
        for row in db.session.scalars(
            select(ReachLabel).where(ReachLabel.label.in_(sorted(keys)))
        )
    }
    return {key: saved.get(key) or default_setting(key) for key in keys}


# Measuring deliveries -----------------------------------------------------------------


@dataclass(frozen=True)
class RateFigure:
    """An outtake (or outcome) as a rate of its output, over deliveries with both."""

    label: str
    name: str
    numerator: int
    denominator: int
    of_unit: str
    stage: Stage = Stage.OUTTAKE

    @property
    def value(self) -> float | None:
        return rate(self.numerator, self.denominator)


@dataclass
class ChannelMeasures:
    """A channel's figures for a period, by stage: never added across units."""

    channel: str
    #: Output (reach) by unit.
    reach: dict[str, int]
    #: Rates by label, where the output was recorded on the same deliveries.
    rates: dict[str, RateFigure]
    #: Other stages' counts by label: (setting, total).
    counts: dict[str, tuple[LabelSetting, int]]


def rate_pairs(settings: dict[str, LabelSetting]) -> dict[str, list[str]]:
    """For each label shown as a rate, the output labels (same unit) it divides by."""
    outputs: dict[str, list[str]] = {}
    for setting in settings.values():
        if setting.stage is Stage.OUTPUT:
            outputs.setdefault(setting.unit, []).append(setting.label)
    return {
        setting.label: sorted(outputs[setting.rate_of])
        for setting in settings.values()
        if setting.stage is not Stage.OUTPUT
        and setting.rate_of
        and setting.rate_of in outputs
    }


def measure_channels(
    totals: dict[str, dict[str, int]],
    settings: dict[str, LabelSetting],
    paired: dict[tuple[str, str], tuple[int, int]],
) -> list[ChannelMeasures]:
    """Each channel's reach by unit, rates and other counts.

    ``totals`` is each channel's total per label; ``paired`` holds, per (channel,
    rate label), the label's total and its output's total over the deliveries that
    record both.
    """
    result = []
    for channel in sorted(totals):
        measures = ChannelMeasures(channel, {}, {}, {})
        by_label: dict[str, int] = {}
        for label, total in totals[channel].items():
            by_label[clean(label)] = by_label.get(clean(label), 0) + total
        for label, total in sorted(by_label.items()):
            setting = settings.get(label) or default_setting(label)
            if setting.stage is Stage.OUTPUT:
                measures.reach[setting.unit] = (
                    measures.reach.get(setting.unit, 0) + total
                )
                continue
            numerator, denominator = paired.get((channel, label), (0, 0))
            if denominator:
                measures.rates[label] = RateFigure(
                    label,
                    setting.rate_name,
                    numerator,
                    denominator,
                    setting.rate_of,
                    setting.stage,
                )
            measures.counts[label] = (setting, total)
        result.append(measures)
    return result


def measure_deliveries(
    deliveries: Iterable[tuple[str, list[tuple[str, float]]]],
    settings: dict[str, LabelSetting],
) -> list[ChannelMeasures]:
    """:func:`measure_channels` from deliveries as (channel, [(label, value)…])."""
    pairs = rate_pairs(settings)
    totals: dict[str, dict[str, int]] = {}
    paired: dict[tuple[str, str], tuple[int, int]] = {}
    for channel, figures in deliveries:
        by_label: dict[str, int] = {}
        for label, value in figures:
            key = clean(label)
            by_label[key] = by_label.get(key, 0) + int(value)
        mine = totals.setdefault(channel, {})
        for key, value in by_label.items():
            mine[key] = mine.get(key, 0) + value
        for key, outputs in pairs.items():
            present = [o for o in outputs if o in by_label]
            if key in by_label and present:
                n, d = paired.get((channel, key), (0, 0))
                paired[(channel, key)] = (
                    n + by_label[key],
                    d + sum(by_label[o] for o in present),
                )
    return measure_channels(totals, settings, paired)


# Admin: the labels --------------------------------------------------------------------


def used_labels() -> list[str]:
    """Every label recorded with a delivery (cleaned), in order."""
    rows = db.session.scalars(select(func.lower(ReachFigure.label)).distinct())
    return sorted({clean(label) for label in rows})


def list_labels() -> list[LabelSetting]:
    """Every saved label and every label used on deliveries, by label."""
    saved = {row.label for row in db.session.scalars(select(ReachLabel))}
    return sorted(
        label_settings(saved | set(used_labels())).values(), key=lambda s: s.label
    )


def output_units() -> list[str]:
    """The units of output labels, for "a rate of" choices."""
    return sorted({s.unit for s in list_labels() if s.stage is Stage.OUTPUT})


def get_label(label: str) -> ReachLabel | None:
    """The saved row for a label, if an admin (or Engage) saved one."""
    return db.session.scalar(select(ReachLabel).where(ReachLabel.label == clean(label)))


def ensure_labels(labels: Iterable[str], *, now: datetime) -> int:
    """Save the defaults for labels not saved yet, so admins see and can change them."""
    keys = {clean(label) for label in labels if label.strip()}
    if not keys:
        return 0
    saved = set(
        db.session.scalars(
            select(ReachLabel.label).where(ReachLabel.label.in_(sorted(keys)))
        )
    )
    for key in sorted(keys - saved):
        setting = default_setting(key)
        db.session.add(
            ReachLabel(
                label=key,
                stage=setting.stage,
                unit=setting.unit,
                rate_of=setting.rate_of,
                updated_at=now,
            )
        )
    db.session.flush()
    return len(keys - saved)


def save_label(
    label: str,
    *,
    stage: Stage,
    unit: str,
    rate_of: str,
    actor: User | str,
    now: datetime,
    new: bool = False,
) -> ReachLabel:
    """Set a label's stage, unit and rate (creating its row), and bring the metrics
    made from its figures into line. ``new``: refuse a label already saved."""
    key, unit, rate_of = clean(label), clean(unit), clean(rate_of)
    if not key:
        raise ValidationError("Enter the label.")
    if not unit:
        raise ValidationError("Enter the unit.")
    if rate_of and stage is Stage.OUTPUT:
        raise ValidationError(
            "Reach (an output) is not a rate of anything: choose no rate."
        )
    row = get_label(key)
    if row is not None and new:
        raise Conflict(f"The label “{key}” is already set up: change it from the list.")
    if row is None:
        row = ReachLabel(label=key)
        db.session.add(row)
    row.stage, row.unit, row.rate_of, row.updated_at = stage, unit, rate_of, now
    db.session.flush()
    sync_reach_metrics(key, stage, unit)
    record_event(
        actor,
        "update",
        "reach_label",
        row.id,
        f"{key}: {stage.value}, {unit}" + (f", rate of {rate_of}" if rate_of else ""),
        now=now,
    )
    return row


def sync_reach_metrics(label: str, stage: Stage, unit: str) -> int:
    """Give the metrics made from a label's figures its stage and unit."""
    from engage.metrics.services import reach_metric_key  # it reads the labels

    keys = [
        reach_metric_key(channel, label)
        for channel in db.session.scalars(select(Channel))
    ]
    changed = 0
    for metric in db.session.scalars(select(Metric).where(Metric.key.in_(keys))):
        if (metric.stage, metric.unit) != (stage, unit):
            metric.stage, metric.unit = stage, unit
            changed += 1
    db.session.flush()
    return changed


def metric_stage(key: str, name: str, unit: str) -> Stage:
    """A sensible stage for a metric Engage did not make from a label."""
    known = {
        "members-gold": Stage.OUTCOME,
        "members-silver": Stage.OUTCOME,
        "new-members": Stage.OUTCOME,
        "withdrawals": Stage.OUTCOME,
        "actions-completed": Stage.INPUT,
        "actions-overdue": Stage.INPUT,
        "audiences-due": Stage.INPUT,
        "survey-responses": Stage.OUTCOME,
        "survey-response-rate": Stage.OUTCOME,
        "media-coverage": Stage.OUTPUT,
    }
    if key in known:
        return known[key]
    words = f"{name} {unit}".lower()
    if any(word in words for word in _OUTCOME_WORDS):
        return Stage.OUTCOME
    if any(word in words for word in _OUTTAKE_WORDS):
        return Stage.OUTTAKE
    return Stage.OUTPUT
