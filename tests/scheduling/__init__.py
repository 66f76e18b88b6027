"""Tests of the scheduled jobs and the scheduler process."""
