"""The job registry: every scheduled job, one line each.

A job names ONE service, called as ``service(now=..., **kwargs)`` inside an app
context by the one wrapper (jobs.runner.run_job), which commits once and records the
run. A job whose service waits on the network between reading and writing names
instead a function in this package that ends the read transaction before the wait
and begins the write after it (jobs/feeds.py). Times are Europe/London
(``ENGAGE_JOBS_TIMEZONE``). To add a job, add a line here; the scheduler picks it
up when it next starts.
"""

from __future__ import annotations

from engage.scheduling.services import JobSpec

NIGHTLY = {"hour": 2, "minute": 15}

JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        "purge-registrations",
        "cron",
        {"hour": 2, "minute": 0},
        "engage.membership.registration:purge_unconfirmed",
        description="Delete sign-ups never confirmed within 30 days.",
        title="Delete unconfirmed sign-ups",
    ),
    JobSpec(
        "membership-retention",
        "cron",
        NIGHTLY,
        "engage.membership.services:apply_retention",
        description="Erase members withdrawn longer ago than the retention period.",
        title="Erase members past the retention period",
    ),
    JobSpec(
        "purge-imports",
        "cron",
        {"minute": 35},
        "engage.imports.services:purge_pending_imports",
        description="Delete uploaded import files not applied within the hour.",
        title="Delete import files left unapplied",
    ),
    JobSpec(
        "action-digest",
        "cron",
        {"hour": 7, "minute": 0},
        "engage.actions.digest:send_action_digests",
        description="Email each owner their actions due within 7 days or overdue.",
        title="Email action owners what is due",
    ),
    JobSpec(
        "deliver-mail",
        "interval",
        {"minutes": 1},
        "engage.mail.delivery:prepare_and_deliver",
        description="Write emails asked for by address (password resets, manage "
        "links) left by a request, send queued emails and retry failed ones.",
        misfire_grace_seconds=60,
        title="Send emails",
    ),
    JobSpec(
        "send-mailings",
        "interval",
        {"minutes": 1},
        "jobs.mailings:send_mailings",
        description="Start the mailings scheduled for now and send the mailings being "
        "sent, in throttled batches (each run sends for up to 50 seconds).",
        misfire_grace_seconds=60,
        title="Send newsletters and mailings",
    ),
    JobSpec(
        "send-involvement",
        "interval",
        {"minutes": 1},
        "jobs.involvement:send_involvement",
        description="Send involvement invitations, reminders a week and a day before "
        "each session, freed places, changes and cancellations (emails and texts).",
        misfire_grace_seconds=60,
        title="Send involvement invitations and reminders",
    ),
    JobSpec(
        "close-surveys",
        "cron",
        {"minute": 5},
        "engage.surveys.services:close_due_surveys",
        description="Close open surveys whose closing date has passed.",
        title="Close surveys at their end date",
    ),
    JobSpec(
        "poll-feeds",
        "interval",
        {"minutes": 30},
        "jobs.feeds:poll_feeds",
        description="Fetch the feeds that are due and record their mentions.",
        misfire_grace_seconds=15 * 60,
        title="Read news feeds for media mentions",
    ),
    JobSpec(
        "mailing-figures",
        "cron",
        {"minute": 40},
        "engage.mailings.measurement:refresh_mailing_figures",
        description="Bring the delivery figures logged on the plan up to date for "
        "mailings finished in the last 30 days (receipts and bounces arrive late).",
        title="Update mailings' delivery figures on the plan",
    ),
    JobSpec(
        "read-bounces",
        "interval",
        {"minutes": 10},
        "jobs.bounces:read_bounces",
        description="Read bounce and spam reports from the bounce mailbox; mark "
        "undeliverable addresses and stop email to those who complained.",
        misfire_grace_seconds=5 * 60,
        title="Read bounced emails",
    ),
    JobSpec(
        "read-capture",
        "interval",
        {"minutes": 5},
        "jobs.capture:read_capture",
        description="Read the emails staff copied to the capture mailbox; file each "
        "as a draft interaction for its sender to confirm, or leave it for review.",
        misfire_grace_seconds=5 * 60,
        title="Read emails copied to the capture mailbox",
    ),
    JobSpec(
        "compute-metrics",
        "cron",
        {"hour": 1, "minute": 30},
        "engage.metrics.scheduled:nightly_metrics",
        description="Yesterday's system metrics and reach figures from deliveries.",
        title="Work out yesterday's metrics",
    ),
    JobSpec(
        "score-relationships",
        "cron",
        {"hour": 2, "minute": 30},
        "jobs.relationships:score_relationships",
        description="Score each active audience's relationship health for today "
        "(contact against its cadence, sentiment, overdue commitments) and keep it.",
        title="Score relationship health",
    ),
    JobSpec(
        "reach-report-weekly",
        "cron",
        {"day_of_week": "mon", "hour": 6, "minute": 0},
        "engage.metrics.scheduled:reach_report",
        {"period": "week"},
        description="Make and email last week's reach report.",
        title="Email the weekly reach report",
    ),
    JobSpec(
        "reach-report-monthly",
        "cron",
        {"day": 1, "hour": 6, "minute": 30},
        "engage.metrics.scheduled:reach_report",
        {"period": "month"},
        description="Make and email last month's reach report.",
        title="Email the monthly reach report",
    ),
)
