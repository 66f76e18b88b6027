"""Scheduled jobs: the scheduler process (``python -m jobs``) and the job registry."""
