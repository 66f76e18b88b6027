"""Stakeholder relationships: interactions, commitments, themes and health."""
