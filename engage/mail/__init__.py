"""Outgoing e-mail: SMTP when configured, otherwise an outbox admins can read."""
