"""Metrics, feeds and reach report pages (thin: forms in, one service, commit)."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.accounts.access import safe_next_url
from engage.accounts.models import User
from engage.actions.services import list_channels
from engage.clock import today
from engage.clock import utcnow
from engage.edge import change
from engage.edge import saved_since_opened
from engage.extensions import db
from engage.formtools import choices
from engage.formtools import id_or_none
from engage.metrics import feeds
from engage.metrics import reach
from engage.metrics import services
from engage.metrics.forms import FeedForm
from engage.metrics.forms import MentionDatesForm
from engage.metrics.forms import MetricForm
from engage.metrics.forms import ObservationForm
from engage.metrics.forms import ReportForm
from engage.metrics.forms import ToneForm
from engage.metrics.models import Feed
from engage.metrics.models import Metric
from engage.metrics.models import ReachReport
from engage.metrics.models import Tone
from engage.metrics.report import last_complete_period
from engage.metrics.report import report_xlsx
from engage.paging import keyset_page

bp = Blueprint("metrics", __name__, url_prefix="/metrics")
feeds_bp = Blueprint("feeds", __name__, url_prefix="/feeds")
reports_bp = Blueprint("reports", __name__, url_prefix="/reports")

#: Mentions on a page of the mentions list.
PER_PAGE = 50


def _actor() -> User:
    user: User = current_user._get_current_object()
    return user


# Metrics ----------------------------------------------------------------------------


@bp.get("")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    return render_template("metrics/index.html", metrics=services.list_metrics())


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create() -> ResponseReturnValue:
    return _metric_form(None)


@bp.route("/<int:metric_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(metric_id: int) -> ResponseReturnValue:
    return _metric_form(db.get_or_404(Metric, metric_id))


def _metric_form(metric: Metric | None) -> ResponseReturnValue:
    form = MetricForm(obj=metric)
    form.channel_id.choices = choices(
        [("", "None"), *((c.id, c.name) for c in list_channels())]
    )
    form.action_id.choices = choices(
        [("", "None"), *((a.id, a.title) for a in services.list_actions_for_choice())]
    )
    if metric is not None and not form.is_submitted():
        form.opened_at.data = metric.updated_at.isoformat()
    if form.validate_on_submit() and (
        metric is None or not saved_since_opened(form, metric.updated_at, "metric")
    ):
        data = services.MetricData(
            key=form.key.data,
            name=form.name.data,
            kind=form.kind.data,
            unit=form.unit.data or "",
            stage=form.stage.data,
            description=form.description.data or "",
            higher_is_better=form.higher_is_better.data,
            target_value=form.target_value.data,
            target_period=form.target_period.data,
            channel_id=form.channel_id.data,
            action_id=form.action_id.data,
        )
        with change("Metric saved.", field=form.key) as done:
            saved = services.save_metric(metric, data, actor=_actor(), now=utcnow())
        if done:
            return redirect(url_for("metrics.detail", metric_id=saved.id))
    return render_template("metrics/form.html", form=form, metric=metric)


@bp.get("/<int:metric_id>")
@roles_required(*READERS)
def detail(metric_id: int) -> ResponseReturnValue:
    metric = db.get_or_404(Metric, metric_id)
    observations = services.list_observations(metric)
    return render_template(
        "metrics/detail.html",
        metric=metric,
        observations=observations,
        chart=services.chart_data(metric, observations),
        form=ObservationForm(formdata=None, observed_on=today()),
    )


@bp.post("/<int:metric_id>/observations")
@roles_required(*EDITORS)
def observe(metric_id: int) -> ResponseReturnValue:
    metric = db.get_or_404(Metric, metric_id)
    form = ObservationForm()
    if form.validate_on_submit():
        with change("Value recorded.", field=form.observed_on) as done:
            services.record_manual_observation(
                metric,
                form.observed_on.data,
                form.value.data,
                note=form.note.data or "",
                actor=_actor(),
                now=utcnow(),
            )
        if done:
            return redirect(url_for("metrics.detail", metric_id=metric.id))
    observations = services.list_observations(metric)
    return render_template(
        "metrics/detail.html",
        metric=metric,
        observations=observations,
        chart=services.chart_data(metric, observations),
        form=form,
    ), 400


# Feeds ------------------------------------------------------------------------------


@feeds_bp.get("")
@roles_required(*READERS)
def feeds_index() -> ResponseReturnValue:
    return render_template("metrics/feeds.html", feeds=feeds.list_feeds())


@feeds_bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create_feed() -> ResponseReturnValue:
    return _feed_form(None)


@feeds_bp.route("/<int:feed_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_feed(feed_id: int) -> ResponseReturnValue:
    return _feed_form(db.get_or_404(Feed, feed_id))


def _feed_form(feed: Feed | None) -> ResponseReturnValue:
    form = FeedForm(obj=feed)
    if form.validate_on_submit():
        data = feeds.FeedData(
            url=form.url.data,
            name=form.name.data,
            phrases=form.phrases.data or "",
            active=form.active.data,
        )
        with change("Feed saved.", field=form.url) as done:
            saved = feeds.save_feed(feed, data, actor=_actor(), now=utcnow())
        if done:
            return redirect(url_for("feeds.feed_detail", feed_id=saved.id))
    return render_template("metrics/feed_form.html", form=form, feed=feed)


@feeds_bp.get("/<int:feed_id>")
@roles_required(*READERS)
def feed_detail(feed_id: int) -> ResponseReturnValue:
    feed = db.get_or_404(Feed, feed_id)
    mentions = feeds.list_mentions(feeds.MentionFilter(feed_id=feed.id), limit=50)
    return render_template("metrics/feed_detail.html", feed=feed, mentions=mentions)


@feeds_bp.get("/mentions")
@roles_required(*READERS)
def mentions() -> ResponseReturnValue:
    dates = MentionDatesForm(request.args)
    dates.validate()
    criteria = feeds.MentionFilter(
        feed_id=id_or_none(request.args.get("feed")),
        tone=request.args.get("tone", ""),
        start=dates.start.data,
        end=dates.end.data,
        text=request.args.get("q", "")[:200],
    )
    return render_template(
        "metrics/mentions.html",
        page=keyset_page(
            feeds.mention_query(criteria), feeds.MENTION_ORDER, per_page=PER_PAGE
        ),
        criteria=criteria,
        dates=dates,
        feeds=feeds.list_feeds(),
        tones=list(Tone),
        tone_form=ToneForm(formdata=None),
    )


@feeds_bp.post("/mentions/<int:mention_id>/tone")
@roles_required(*EDITORS)
def set_tone(mention_id: int) -> ResponseReturnValue:
    form = ToneForm()
    if not form.validate_on_submit():
        abort(400)
    feeds.set_tone(mention_id, form.tone.data, actor=_actor(), now=utcnow())
    db.session.commit()
    flash("Tone saved.", "success")
    back = safe_next_url(request.form.get("back"))
    return redirect(back or url_for("feeds.mentions"))


# Reach reports ----------------------------------------------------------------------


@reports_bp.get("")
@roles_required(*READERS)
def reports_index() -> ResponseReturnValue:
    return render_template(
        "metrics/reports.html", reports=reach.list_reports(), form=ReportForm()
    )


@reports_bp.post("/new")
@roles_required(*EDITORS)
def make_report() -> ResponseReturnValue:
    form = ReportForm()
    if not form.validate_on_submit():
        abort(400)
    period = last_complete_period(form.period.data, today())
    report = reach.make_reach_report(period, now=utcnow())
    db.session.commit()
    return redirect(url_for("reports.report_detail", report_id=report.id))


@reports_bp.get("/<int:report_id>")
@roles_required(*READERS)
def report_detail(report_id: int) -> ResponseReturnValue:
    report = db.get_or_404(ReachReport, report_id)
    return render_template("metrics/report.html", report=report, figures=report.figures)


@reports_bp.get("/<int:report_id>/report.xlsx")
@roles_required(*READERS)
def report_download(report_id: int) -> ResponseReturnValue:
    report = db.get_or_404(ReachReport, report_id)
    return Response(
        report_xlsx(report.figures),
        mimetype=reach.XLSX_TYPE,
        headers={
            "Content-Disposition": "attachment; filename="
            + reach.report_filename(report)
        },
    )


@reports_bp.post("/subscription")
@roles_required(*READERS)
def subscription() -> ResponseReturnValue:
    wanted = request.form.get("subscribed") == "yes"
    reach.set_report_subscription(_actor(), wanted, now=utcnow())
    db.session.commit()
    flash(
        "You will get the reach report by email."
        if wanted
        else "You will no longer get the reach report by email.",
        "success",
    )
    return redirect(url_for("accounts.account"))
