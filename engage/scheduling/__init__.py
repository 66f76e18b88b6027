"""Scheduled jobs: the registry's runs, run-now requests and the scheduler's lease."""
