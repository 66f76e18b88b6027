"""Themes stakeholders raise: the admins' list, its links to the plan, and its figures.

Admins add, rename and retire themes (through ``engage.named``); officers may change
a theme's description and the actions and "you said, we did" findings linked to it.
The figures count confirmed interactions only: a draft has not been checked by the
person who logged it, so it is not yet evidence of anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import selectinload

from engage.actions.models import Action
from engage.actions.schedule import add_months
from engage.audiences.models import Audience
from engage.dashboard import periods
from engage.dashboard.periods import Period
from engage.dashboard.periods import PeriodKind
from engage.errors import PermissionDenied
from engage.errors import ValidationError
from engage.extensions import db
from engage.named import save_named
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Sentiment
from engage.relationships.models import Theme
from engage.relationships.models import interaction_audiences
from engage.relationships.models import interaction_themes
from engage.surveys.models import Finding

if TYPE_CHECKING:
    from engage.accounts.models import User

#: The most actions or findings offered (and so linked) on a theme's form.
MAX_CHOICES = 1000
#: The periods the overview offers, in months.
PERIOD_MONTHS = (3, 12)
#: Quarters shown on a theme's page (two years, this one to date).
QUARTERS = 8
#: The latest interactions listed on a theme's page.
LATEST = 20
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class ThemeData:
    """What a theme's form sends."""

    name: str
    description: str = ""
    is_active: bool = True
    action_ids: tuple[int, ...] = ()
    finding_ids: tuple[int, ...] = ()


def _is_admin(actor: User | str) -> bool:
    return isinstance(actor, str) or bool(getattr(actor, "is_admin", False))


def _chosen(model: type[Any], ids: Sequence[int], noun: str) -> list[Any]:
    wanted = sorted(set(ids))
    if len(wanted) > MAX_CHOICES:
        raise ValidationError(f"Choose at most {MAX_CHOICES:,} {noun}.")
    if not wanted:
        return []
    found = list(db.session.scalars(select(model).where(model.id.in_(wanted))))
    if len(found) != len(wanted):
        raise ValidationError(f"Choose {noun} from the list.")
    return found


def save_theme(
    theme: Theme | None, data: ThemeData, *, actor: User | str, now: datetime
) -> Theme:
    """Add a theme (``theme`` None) or change one.

    Only an admin adds, renames or retires a theme; an officer may change its
    description and the actions and findings linked to it.
    """
    if not _is_admin(actor):
        if theme is None:
            raise PermissionDenied("Only an administrator can add a theme.")
        if data.name.strip() != theme.name or data.is_active != theme.is_active:
            raise PermissionDenied(
                "Only an administrator can rename or retire a theme."
            )
    if len(data.description) > 5000:
        raise ValidationError("The description must be 5,000 characters or fewer.")
    actions = _chosen(Action, data.action_ids, "actions")
    findings = _chosen(Finding, data.finding_ids, "findings")
    values: dict[str, object] = {
        "description": data.description,
        "is_active": data.is_active,
        "updated_at": now,
        "actions": actions,
        "findings": findings,
    }
    if theme is None:
        values["created_at"] = now
    return save_named(
        Theme, theme, noun="theme", name=data.name, values=values, actor=actor, now=now
    )


def list_themes(*, active_only: bool = False) -> list[Theme]:
    """Every theme by name (the active ones only if asked)."""
    query = select(Theme).order_by(Theme.name)
    if active_only:
        query = query.where(Theme.is_active.is_(True))
    return list(db.session.scalars(query))


def action_choices(keep: Sequence[int] = ()) -> list[tuple[int, str]]:
    """The actions a theme may be linked to, by title (the first MAX_CHOICES), and
    always those in ``keep`` (the theme's own), so saving never drops a link."""
    wanted = or_(
        Action.id.in_(select(Action.id).order_by(Action.title).limit(MAX_CHOICES)),
        Action.id.in_(list(keep)),
    )
    rows = db.session.execute(
        select(Action.id, Action.title).where(wanted).order_by(Action.title)
    )
    return [(row.id, row.title) for row in rows]


def finding_choices(keep: Sequence[int] = ()) -> list[tuple[int, str]]:
    """The "you said, we did" findings a theme may be linked to, with their survey
    (the first MAX_CHOICES, and always those in ``keep``)."""
    from engage.surveys.models import Survey

    order = (Survey.title, Finding.theme, Finding.id)
    first = (
        select(Finding.id)
        .join(Survey, Survey.id == Finding.survey_id)
        .order_by(*order)
        .limit(MAX_CHOICES)
    )
    rows = db.session.execute(
        select(Finding.id, Finding.theme, Survey.title)
        .join(Survey, Survey.id == Finding.survey_id)
        .where(or_(Finding.id.in_(first), Finding.id.in_(list(keep))))
        .order_by(*order)
    )
    return [(row.id, f"{row.title}: {row.theme}") for row in rows]


# Periods ------------------------------------------------------------------------------


def like_for_like(months: int, today: date) -> tuple[Period, Period]:
    """The last ``months`` months to ``today``, and as many days just before them.

    "Last 12 months" seen on 15 March 2026 is 16 March 2025 to 15 March 2026; the
    period before is the 365 days before that. "Last 3 months" on 31 May is 1 March
    to 31 May (92 days), against the 92 days before: counts of days, not of
    calendar months, so the two are always the same length.
    """
    current = periods.custom(add_months(today, -months) + _ONE_DAY, today)
    return current, current.previous()


# The overview -------------------------------------------------------------------------


@dataclass
class SentimentSplit:
    """How many interactions went each way (never added across kinds)."""

    positive: int = 0
    neutral: int = 0
    negative: int = 0
    mixed: int = 0

    def of(self, sentiment: Sentiment) -> int:
        value: int = getattr(self, sentiment.value)
        return value


@dataclass
class ThemeFigures:
    """One theme's figures in the overview."""

    theme: Theme
    raised: int = 0
    raised_before: int = 0
    audiences: int = 0
    sentiment: SentimentSplit = field(default_factory=SentimentSplit)
    last_raised: date | None = None

    @property
    def change(self) -> int:
        return self.raised - self.raised_before


def _sentiment_counts(condition: Any, counted: Any) -> list[Any]:
    return [
        func.count(
            distinct(case((and_(condition, Interaction.sentiment == s), counted)))
        )
        for s in Sentiment
    ]


SORTS = {"raised": "Most raised", "name": "Name"}


def theme_overview(
    months: int, today: date, *, sort: str = "raised"
) -> tuple[list[ThemeFigures], Period, Period]:
    """Every active theme (and any retired one raised in the period) with its figures.

    One grouped query over confirmed interactions gives, per theme: interactions in
    the period and in the same length of time before it, audiences that raised it in
    the period, the period's sentiment split, and the last day it was raised.
    """
    current, before = like_for_like(months, today)
    ia = interaction_audiences
    it = interaction_themes
    # The link rows carry each interaction's day, sentiment and status, so the
    # counts are read from interaction_themes' indexes alone, with no join; each
    # interaction raises a theme once (the pair is the key), so plain sums count
    # interactions.
    in_current = it.c.occurred_on.between(current.start, current.end)
    in_before = it.c.occurred_on <= before.end
    confirmed = it.c.confirmed == true()
    # Grouped by "theme_id + 0", not by the column: SQLite would otherwise read the
    # theme's own index for every theme (to group in its order) rather than the
    # period's range of the covering index.
    theme_key = it.c.theme_id + literal_column("0")
    counts = (
        select(
            theme_key.label("theme_id"),
            func.sum(case((in_current, 1), else_=0)).label("raised"),
            func.sum(case((in_before, 1), else_=0)).label("raised_before"),
            *[
                func.sum(
                    case((and_(in_current, it.c.sentiment == s), 1), else_=0)
                ).label(s.value)
                for s in Sentiment
            ],
        )
        .where(confirmed, it.c.occurred_on.between(before.start, current.end))
        .group_by(theme_key)
        .subquery()
    )
    # Audiences that raised each theme in the period: the theme's links in the
    # period joined to the audiences' links of the same interactions.
    reach = (
        select(
            theme_key.label("theme_id"),
            func.count(distinct(ia.c.audience_id)).label("audiences"),
        )
        .select_from(it)
        .join(ia, ia.c.interaction_id == it.c.interaction_id)
        .where(confirmed, in_current)
        .group_by(theme_key)
        .subquery()
    )
    # The last time raised, however long ago: one index lookup per theme.
    last = (
        select(func.max(it.c.occurred_on))
        .where(it.c.theme_id == Theme.id, confirmed)
        .scalar_subquery()
    )
    query = (
        select(
            Theme.id,
            func.coalesce(counts.c.raised, 0),
            func.coalesce(counts.c.raised_before, 0),
            func.coalesce(reach.c.audiences, 0),
            *[func.coalesce(counts.c[s.value], 0) for s in Sentiment],
            last,
        )
        .select_from(Theme)
        .outerjoin(counts, counts.c.theme_id == Theme.id)
        .outerjoin(reach, reach.c.theme_id == Theme.id)
    )
    counted: dict[int, tuple[Any, ...]] = {
        row[0]: tuple(row[1:]) for row in db.session.execute(query)
    }
    figures = []
    for theme in list_themes():
        row = counted.get(theme.id)
        if row is None:
            if theme.is_active:
                figures.append(ThemeFigures(theme))
            continue
        raised, raised_before, audiences, pos, neu, neg, mix, last = row
        if not theme.is_active and not raised:
            continue
        figures.append(
            ThemeFigures(
                theme,
                raised=raised,
                raised_before=raised_before,
                audiences=audiences,
                sentiment=SentimentSplit(pos, neu, neg, mix),
                last_raised=last,
            )
        )
    if sort == "raised":
        figures.sort(key=lambda f: (-f.raised, f.theme.name.lower()))
    return figures, current, before


# A theme's page -----------------------------------------------------------------------


@dataclass
class AudienceRow:
    """One audience that raised a theme: how often, how it went, when last."""

    audience_id: int
    name: str
    raised: int
    sentiment: SentimentSplit
    last_raised: date | None


@dataclass
class QuarterRow:
    """A calendar quarter's count of interactions raising a theme."""

    label: str
    start: date
    to_date: bool
    raised: int = 0
    sentiment: SentimentSplit = field(default_factory=SentimentSplit)


def _raised(key: Any, name: Any, condition: Any) -> list[Any]:
    """Confirmed interactions meeting ``condition``, grouped by ``key`` (an
    audience's or a theme's id, with its ``name``): each group's count, sentiment
    split and last day."""
    ia = interaction_audiences
    it = interaction_themes
    query = (
        select(
            key,
            name,
            func.count(distinct(Interaction.id)),
            *_sentiment_counts(true(), Interaction.id),
            func.max(Interaction.occurred_on),
        )
        .select_from(it)
        .join(Interaction, Interaction.id == it.c.interaction_id)
        .join(ia, ia.c.interaction_id == Interaction.id)
        .join(Audience, Audience.id == ia.c.audience_id)
        .join(Theme, Theme.id == it.c.theme_id)
        .where(condition, Interaction.status == InteractionStatus.CONFIRMED)
        .group_by(key, name)
    )
    rows = list(db.session.execute(query))
    rows.sort(key=lambda row: (-row[2], row[1].lower()))
    return rows


def theme_audiences(theme: Theme) -> list[AudienceRow]:
    """The audiences that raised ``theme`` in confirmed interactions, most first."""
    return [
        AudienceRow(
            audience_id=row[0],
            name=row[1],
            raised=row[2],
            sentiment=SentimentSplit(*row[3:7]),
            last_raised=row[7],
        )
        for row in _raised(
            Audience.id, Audience.name, interaction_themes.c.theme_id == theme.id
        )
    ]


def theme_quarters(theme: Theme, today: date) -> list[QuarterRow]:
    """The last QUARTERS calendar quarters, oldest first; this one counted to date."""
    # This quarter is counted to date, its last day too (that day is not over).
    whole = periods.current(PeriodKind.QUARTER, today)
    quarter = Period(whole.kind, whole.start, today, whole_end=whole.end, to_date=True)
    quarters = [quarter]
    for _ in range(QUARTERS - 1):
        quarters.append(quarters[-1].whole.previous())
    rows = [
        QuarterRow(label=q.label, start=q.start, to_date=q.to_date)
        for q in reversed(quarters)
    ]
    year = func.extract("year", Interaction.occurred_on)
    month = func.extract("month", Interaction.occurred_on)
    query = (
        select(
            year,
            month,
            func.count(distinct(Interaction.id)),
            *_sentiment_counts(true(), Interaction.id),
        )
        .select_from(interaction_themes)
        .join(Interaction, Interaction.id == interaction_themes.c.interaction_id)
        .where(
            interaction_themes.c.theme_id == theme.id,
            Interaction.status == InteractionStatus.CONFIRMED,
            Interaction.occurred_on >= rows[0].start,
        )
        .group_by(year, month)
    )
    by_start = {row.start: row for row in rows}
    for y, m, raised, pos, neu, neg, mix in db.session.execute(query):
        start = periods.current(PeriodKind.QUARTER, date(int(y), int(m), 1)).start
        row = by_start.get(start)
        if row is None:  # after today (a day ahead, by the clock's UK day)
            row = rows[-1]
        row.raised += raised
        split = row.sentiment
        split.positive += pos
        split.neutral += neu
        split.negative += neg
        split.mixed += mix
    return rows


def latest_interactions(theme: Theme, *, limit: int = LATEST) -> list[Interaction]:
    """The latest confirmed interactions raising ``theme``, with their audiences."""
    query = (
        select(Interaction)
        .join(
            interaction_themes,
            interaction_themes.c.interaction_id == Interaction.id,
        )
        .where(
            interaction_themes.c.theme_id == theme.id,
            Interaction.status == InteractionStatus.CONFIRMED,
        )
        .options(selectinload(Interaction.audiences))
        .order_by(Interaction.occurred_on.desc(), Interaction.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def open_commitments(audience_ids: Sequence[int]) -> list[Commitment]:
    """Open commitments to these audiences, soonest due first."""
    if not audience_ids:
        return []
    query = (
        select(Commitment)
        .where(
            Commitment.audience_id.in_(list(audience_ids)),
            Commitment.status == CommitmentStatus.OPEN,
        )
        .options(selectinload(Commitment.audience), selectinload(Commitment.owner))
        .order_by(Commitment.due_on, Commitment.id)
        .limit(200)
    )
    return list(db.session.scalars(query))


# The audience page's section ----------------------------------------------------------


@dataclass(frozen=True)
class RaisedTheme:
    """A theme an audience has raised: how often and when last."""

    theme_id: int
    name: str
    raised: int
    last_raised: date


def themes_raised_by(audience_id: int) -> list[RaisedTheme]:
    """The themes an audience raised in confirmed interactions, most often first."""
    return [
        RaisedTheme(theme_id=row[0], name=row[1], raised=row[2], last_raised=row[7])
        for row in _raised(
            Theme.id, Theme.name, interaction_audiences.c.audience_id == audience_id
        )
    ]
