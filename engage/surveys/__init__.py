"""Surveys: build questionnaires, invite members, collect and report on responses."""
