"""Stakeholder map: audiences, their contacts, programmes and approaches."""
