"""Audit trail: who changed what, when."""
