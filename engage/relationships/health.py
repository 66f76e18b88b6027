"""Relationship health: a score from 0 to 100 per audience for a UK day, with reasons.

How health is scored (docs/relationships.md says the same for people):

- Start at 100.
- **Contact against its cadence** (the audiences' rule: the interval of the
  audience's usual approach, and its last contact, a delivery or a confirmed
  interaction, on or before the day). Not due: no change ("in contact on time").
  Due: −20 ("no contact for 40 days against 30"); −40 when the time since the last
  contact is more than twice the interval ("no contact for 95 days against 30") or
  there has never been contact ("never contacted").
- **Sentiment** of the confirmed interactions in the last 90 days (the day and the
  89 before it): each negative −10, each mixed −5, at most −30 in all; each positive
  +5, at most +10, which only wins back points lost to the other rules (the score
  never goes above 100). Reasons name them by kind: "two negative meetings", "one
  mixed call".
- **Trend** (a reason, no points): the share of negative-or-mixed interactions in
  the last 90 days against the 90 days before; when both have judged interactions
  and the share moves by at least a third (of all interactions: from one in four
  to two in three, say), "sentiment getting worse" or "sentiment getting better".
- **Overdue commitments** (open, due before the day): −15 each, at most −45 ("one
  overdue commitment").
- Bands: 70 and over good, 40 to 69 needs attention, below 40 at risk.

``score_all`` scores every active audience with a fixed number of grouped queries;
``score_one`` runs the same code for one audience. ``record_health`` keeps the day's
scores as ``AudienceHealth`` rows (the nightly job). Nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from fractions import Fraction

from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from engage.actions.deliveries import last_contact_dates
from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.audiences.services import ContactStatus
from engage.audiences.services import contact_status
from engage.audiences.services import effective_approach
from engage.audiences.services import get_contact_intervals
from engage.extensions import db
from engage.relationships.models import AudienceHealth
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import HealthBand
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Sentiment
from engage.relationships.models import interaction_audiences

#: Days of interactions whose sentiment counts; the trend compares them with the
#: same number of days before.
SENTIMENT_DAYS = 90

DUE_POINTS = 20
LONG_OVERDUE_POINTS = 40
NEGATIVE_POINTS = 10
MIXED_POINTS = 5
SENTIMENT_CAP = 30
POSITIVE_POINTS = 5
POSITIVE_CAP = 10
COMMITMENT_POINTS = 15
COMMITMENT_CAP = 45
#: How far the share of negative-or-mixed interactions must move to be a trend.
TREND_SHIFT = Fraction(1, 3)

GOOD_FROM = 70
FAIR_FROM = 40

_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

#: Each kind of interaction in words, one and several.
_KIND_WORDS = {
    InteractionKind.MEETING: ("meeting", "meetings"),
    InteractionKind.CALL: ("call", "calls"),
    InteractionKind.LETTER: ("letter", "letters"),
    InteractionKind.EMAIL: ("email", "emails"),
    InteractionKind.EVENT: ("conversation at an event", "conversations at events"),
    InteractionKind.SOCIAL: ("social media exchange", "social media exchanges"),
}


def in_words(count: int) -> str:
    """A count as people write it: one to nine in words, then digits."""
    return _NUMBERS[count - 1] if 1 <= count <= len(_NUMBERS) else str(count)


def band_for(score: int) -> HealthBand:
    """The band a score falls in."""
    if score >= GOOD_FROM:
        return HealthBand.GOOD
    if score >= FAIR_FROM:
        return HealthBand.FAIR
    return HealthBand.POOR


@dataclass(frozen=True)
class Health:
    """An audience's relationship health on a day: its score, band and reasons."""

    score: int
    band: HealthBand
    reasons: tuple[str, ...]


@dataclass
class _Counts:
    """What the grouped queries found for one audience."""

    #: (sentiment, kind) → count of confirmed interactions in the last 90 days.
    recent: dict[tuple[Sentiment, InteractionKind], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    #: The 90 days before those: judged and negative-or-mixed.
    before_total: int = 0
    before_bad: int = 0
    overdue: int = 0


def score_all(day: date) -> dict[int, Health]:
    """Every active audience's health on ``day``, by audience id."""
    rows = db.session.execute(
        select(Audience.id, Audience.approach, Audience.created_at).where(
            Audience.archived_at.is_(None)
        )
    ).all()
    return _score([(r[0], r[1], r[2]) for r in rows], day, limit_to_ids=False)


def score_one(audience: Audience, day: date) -> Health:
    """One audience's health on ``day`` (archived or not), as ``score_all`` scores."""
    subject = (audience.id, effective_approach(audience, None), audience.created_at)
    return _score([subject], day, limit_to_ids=True)[audience.id]


def _score(
    audiences: list[tuple[int, Approach, datetime]], day: date, *, limit_to_ids: bool
) -> dict[int, Health]:
    ids = [a[0] for a in audiences]
    if not ids:
        return {}
    intervals = get_contact_intervals()
    last = last_contact_dates(ids, until=day)
    counts = _counts(ids if limit_to_ids else None, day)
    return {
        audience_id: _health(
            contact_status(last.get(audience_id), intervals[approach], added, day),
            counts.get(audience_id) or _Counts(),
            day,
        )
        for audience_id, approach, added in audiences
    }


def _counts(ids: list[int] | None, day: date) -> dict[int, _Counts]:
    """Sentiment and overdue commitments per audience: two grouped queries."""
    recent_from = day - timedelta(days=SENTIMENT_DAYS - 1)
    before_from = recent_from - timedelta(days=SENTIMENT_DAYS)
    audience_id = interaction_audiences.c.audience_id
    is_recent = case((Interaction.occurred_on >= recent_from, True), else_=False)
    query = (
        select(
            audience_id,
            is_recent,
            Interaction.sentiment,
            Interaction.kind,
            func.count(),
        )
        .select_from(Interaction)
        .join(
            interaction_audiences,
            interaction_audiences.c.interaction_id == Interaction.id,
        )
        .where(
            Interaction.status == InteractionStatus.CONFIRMED,
            Interaction.occurred_on >= before_from,
            Interaction.occurred_on <= day,
            Interaction.sentiment.is_not(None),
        )
        .group_by(audience_id, is_recent, Interaction.sentiment, Interaction.kind)
    )
    if ids is not None:
        query = query.where(audience_id.in_(ids))
    found: dict[int, _Counts] = defaultdict(_Counts)
    bad = (Sentiment.NEGATIVE, Sentiment.MIXED)
    for owner, recent, sentiment, kind, count in db.session.execute(query):
        counts = found[owner]
        if recent:
            counts.recent[(sentiment, kind)] += count
        else:
            counts.before_total += count
            if sentiment in bad:
                counts.before_bad += count

    overdue = (
        select(Commitment.audience_id, func.count())
        .where(
            Commitment.status == CommitmentStatus.OPEN,
            Commitment.due_on < day,
        )
        .group_by(Commitment.audience_id)
    )
    if ids is not None:
        overdue = overdue.where(Commitment.audience_id.in_(ids))
    for owner, count in db.session.execute(overdue):
        found[owner].overdue = count
    return found


def _health(status: ContactStatus, counts: _Counts, day: date) -> Health:
    reasons: list[str] = []
    lost = _contact(status, day, reasons)
    sentiment_lost, gained = _sentiment(counts, reasons)
    lost += sentiment_lost
    if counts.overdue:
        lost += min(COMMITMENT_CAP, COMMITMENT_POINTS * counts.overdue)
        noun = "commitment" if counts.overdue == 1 else "commitments"
        reasons.append(f"{in_words(counts.overdue)} overdue {noun}")
    score = max(0, 100 - lost + min(gained, lost))
    return Health(score, band_for(score), tuple(reasons))


def _contact(status: ContactStatus, day: date, reasons: list[str]) -> int:
    """Points lost to contact against the cadence."""
    if not status.is_due:
        reasons.append("in contact on time")
        return 0
    if status.last_contact is None:
        reasons.append("never contacted")
        return LONG_OVERDUE_POINTS
    since = (day - status.last_contact).days
    reasons.append(f"no contact for {since} days against {status.interval_days}")
    return LONG_OVERDUE_POINTS if since > 2 * status.interval_days else DUE_POINTS


def _sentiment(counts: _Counts, reasons: list[str]) -> tuple[int, int]:
    """Points lost and won back by the last 90 days' sentiment, and its trend."""
    by_sentiment: dict[Sentiment, int] = defaultdict(int)
    for (sentiment, _kind), count in counts.recent.items():
        by_sentiment[sentiment] += count
    bad = by_sentiment[Sentiment.NEGATIVE] + by_sentiment[Sentiment.MIXED]
    lost = min(
        SENTIMENT_CAP,
        NEGATIVE_POINTS * by_sentiment[Sentiment.NEGATIVE]
        + MIXED_POINTS * by_sentiment[Sentiment.MIXED],
    )
    gained = min(POSITIVE_CAP, POSITIVE_POINTS * by_sentiment[Sentiment.POSITIVE])
    for sentiment in (Sentiment.NEGATIVE, Sentiment.MIXED, Sentiment.POSITIVE):
        for kind in InteractionKind:
            count = counts.recent.get((sentiment, kind), 0)
            if count:
                one, several = _KIND_WORDS[kind]
                noun = one if count == 1 else several
                reasons.append(f"{in_words(count)} {sentiment.value} {noun}")
    # Trend: the share of negative-or-mixed, this 90 days against the 90 before.
    recent_total = sum(counts.recent.values())
    if recent_total and counts.before_total:
        shift = Fraction(bad, recent_total) - Fraction(
            counts.before_bad, counts.before_total
        )
        if shift >= TREND_SHIFT:
            reasons.append("sentiment getting worse")
        elif shift <= -TREND_SHIFT:
            reasons.append("sentiment getting better")
    return lost, gained


def record_health(day: date, *, now: datetime) -> int:
    """Keep every active audience's health on ``day`` (replacing that day's rows).

    Returns how many were written. Runs again the same day replace the rows.
    """
    scores = score_all(day)
    db.session.execute(delete(AudienceHealth).where(AudienceHealth.day == day))
    if scores:
        db.session.execute(
            insert(AudienceHealth),
            [
                {
                    "audience_id": audience_id,
                    "day": day,
                    "score": health.score,
                    "band": health.band,
                    "reasons": "\n".join(health.reasons),
                    "computed_at": now,
                }
                for audience_id, health in scores.items()
            ],
        )
    db.session.flush()
    return len(scores)
