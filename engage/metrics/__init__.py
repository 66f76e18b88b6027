"""Measures of reach: metrics and observations, media monitoring, reach reports.

Entry points for the scheduled jobs (each flushes and returns counts; the job wrapper
commits once):

- ``jobs.feeds.poll_feeds(now)`` – every 30 minutes, over the read, fetch and write
  phases in ``engage.metrics.feeds``;
- ``engage.metrics.system.compute_system_metrics(day, now=now)`` and
  ``engage.metrics.services.observations_from_activities(now=now)`` – nightly;
- ``engage.metrics.reach.send_reach_report("week" | "month", today, now=now)`` –
  Mondays and the 1st of the month.
"""
