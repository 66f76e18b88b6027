"""Backup and restore tests."""
