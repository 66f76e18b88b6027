"""Outgoing email: SMTP when configured, otherwise an outbox admins can read."""
