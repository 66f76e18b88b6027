"""Mailings: recipients, sending, GOV.UK Notify and the staff pages."""
