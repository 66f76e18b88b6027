"""Scheduled jobs (the scheduler process arrives with the measures-of-reach issue)."""
