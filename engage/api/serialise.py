"""API serialisers: models and dashboard sections as plain JSON-ready dicts.

Only the fields listed here leave the API: no audience contacts, no staff names, no
delivery notes, members only as counts (the dashboard's membership figures), and
survey results with small counts suppressed and no free text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from engage.actions.models import Action
from engage.actions.services import is_overdue
from engage.actions.services import is_unscheduled
from engage.audiences.models import Audience
from engage.audiences.services import ContactStatus
from engage.audiences.services import contact_statuses
from engage.dashboard.periods import Period
from engage.dashboard.sections import Scope
from engage.dashboard.sections import Section
from engage.metrics.models import Metric
from engage.metrics.models import Observation
from engage.relationships.models import Commitment
from engage.relationships.models import Interaction
from engage.surveys.models import Survey
from engage.surveys.results.reports import SurveyResults


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def action(item: Action, today: date, *, detail: bool = False) -> dict[str, Any]:
    """One action (with its deliveries and reach figures when ``detail``)."""
    data: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "channel": item.channel.name,
        "programme_id": item.programme_id,
        "objective_id": item.objective_id,
        "status": item.status.value,
        "overdue": is_overdue(item, today),
        "unscheduled": is_unscheduled(item),
        "recurrence": item.recurrence.value,
        "timescale": item.timescale,
        "start_date": _day(item.start_date),
        "due_date": _day(item.due_date),
        "next_due_date": _day(item.next_due_date),
        "all_audiences": item.all_audiences,
        "audience_ids": [a.id for a in item.audiences],
        "success_measure": item.success_measure,
        "completed_at": item.completed_at.isoformat() if item.completed_at else None,
    }
    if detail:
        data["activities"] = [
            {
                "id": activity.id,
                "occurred_on": activity.occurred_on.isoformat(),
                "description": activity.description,
                "audience_ids": [a.id for a in activity.audiences],
                "figures": [
                    {"label": f.label, "value": f.value} for f in activity.figures
                ],
            }
            for activity in item.activities
        ]
    return data


def contact(audiences: list[Audience], today: date) -> dict[int, ContactStatus]:
    """Contact statuses for a page of audiences (one grouped query)."""
    return contact_statuses(audiences, today=today)


def audience(
    item: Audience, status: ContactStatus, *, detail: bool = False
) -> dict[str, Any]:
    """One audience (with its programme approaches when ``detail``)."""
    data: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "group": item.group.value,
        "approach": item.approach.value,
        "influence": item.influence,
        "interest": item.interest,
        "archived": item.is_archived,
        "last_contact": _day(status.last_contact),
        "due_for_contact": status.is_due,
        "contact_interval_days": status.interval_days,
    }
    if detail:
        data["programme_approaches"] = [
            {"programme_id": o.programme_id, "approach": o.approach.value}
            for o in item.overrides
        ]
    return data


def period(value: Period) -> dict[str, Any]:
    """A reporting period: the whole of it (``start``, ``end``) and the days counted
    (``counted_end``, ``days``). ``to_date`` is true for a period not yet over,
    counted up to today; the previous period is then the same number of days of
    the one before."""
    return {
        "kind": value.kind.value,
        "value": value.value,
        "label": value.label,
        "start": value.start.isoformat(),
        "end": value.whole.end.isoformat(),
        "to_date": value.to_date,
        "counted_end": value.end.isoformat(),
        "days": value.days,
    }


def summary(scope: Scope, sections: list[Section]) -> dict[str, Any]:
    """The dashboard summary: each section's figures and tables."""
    return {
        "period": period(scope.period),
        "previous_period": period(scope.previous),
        "comparison": scope.comparison,
        "programme_id": scope.programme_id,
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "figures": [
                    {
                        "key": f.key,
                        "label": f.label,
                        "value": f.value,
                        "previous": f.previous,
                        "change": f.change,
                        "target": f.target,
                        "unit": f.unit,
                        "stage": f.stage,
                    }
                    for f in section.figures
                ],
                "tables": [
                    {
                        "key": t.key,
                        "caption": t.caption,
                        "columns": t.columns,
                        "rows": t.rows,
                    }
                    for t in section.tables
                ],
                "notes": section.notes,
            }
            for section in sections
        ],
    }


def metric(item: Metric) -> dict[str, Any]:
    """One metric's definition (its target as entered, not scaled)."""
    return {
        "key": item.key,
        "name": item.name,
        "unit": item.unit,
        "stage": item.stage.value,
        "description": item.description,
        "kind": item.kind.value,
        "higher_is_better": item.higher_is_better,
        "target_value": item.target_value,
        "target_period": item.target_period.value if item.target_period else None,
        "channel": item.channel.name if item.channel else None,
        "action_id": item.action_id,
        "system": item.is_system,
    }


def observation(item: Observation) -> dict[str, Any]:
    """One observation: date, value and source (never its note or who entered it)."""
    return {
        "observed_on": item.observed_on.isoformat(),
        "value": item.value,
        "source": item.source.value,
    }


def survey(item: Survey) -> dict[str, Any]:
    """A survey's title, status and dates (never its public link)."""
    return {
        "id": item.id,
        "title": item.title,
        "status": item.status.value,
        "anonymous": item.anonymous,
        "opens_at": item.opens_at.isoformat() if item.opens_at else None,
        "closes_at": item.closes_at.isoformat() if item.closes_at else None,
    }


def survey_results(item: Survey, results: SurveyResults) -> dict[str, Any]:
    """A survey's results as built for the API: small counts suppressed (a hidden
    count is null), questions of fewer than 5 answers without figures, no free text.
    """
    return {
        **survey(item),
        "shown": results.shown,
        "respondents": results.respondents if results.shown else None,
        "suppressed": results.suppressed,
        "questions": [
            {
                "id": q.id,
                "position": q.position,
                "text": q.text,
                "kind": q.kind,
                "shown": q.shown,
                "answered": q.answered if q.shown else None,
                "counts": [
                    {"label": c.label, "count": c.count, "percent": c.percent}
                    for c in q.counts
                ],
                "mean": q.mean,
                "net_score": q.net_score,
                "summary": None
                if q.summary is None
                else {
                    "n": q.summary.n,
                    "mean": q.summary.mean,
                    "median": q.summary.median,
                    "minimum": q.summary.minimum,
                    "maximum": q.summary.maximum,
                    "lower_quartile": q.summary.lower_quartile,
                    "upper_quartile": q.summary.upper_quartile,
                },
            }
            for q in results.questions
        ],
    }


def interaction(item: Interaction) -> dict[str, Any]:
    """One confirmed interaction, with no personal data: no contacts, no staff, no
    heading or summary (either may name people)."""
    return {
        "id": item.id,
        "date": item.occurred_on.isoformat(),
        "kind": item.kind.value,
        "direction": item.direction.value,
        "audiences": [{"id": a.id, "name": a.name} for a in item.audiences],
        "themes": [t.name for t in item.themes],
        "sentiment": item.sentiment.value if item.sentiment else None,
        "commitment_ids": [c.id for c in item.commitments],
    }


def commitment(item: Commitment) -> dict[str, Any]:
    """One commitment, without its description (it may name people) or its owner."""
    return {
        "id": item.id,
        "audience": {"id": item.audience.id, "name": item.audience.name},
        "due_date": item.due_on.isoformat(),
        "status": item.status.value,
        "closed_date": _day(item.closed_on),
        "interaction_id": item.interaction_id,
    }
