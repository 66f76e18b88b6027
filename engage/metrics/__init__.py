"""Measures of reach: metrics and observations, media monitoring, reach reports."""
