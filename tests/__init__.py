"""Engage's test suite."""
