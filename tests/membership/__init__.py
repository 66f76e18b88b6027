"""Membership tests."""
