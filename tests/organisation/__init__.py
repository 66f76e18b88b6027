"""Tests of the organisation: identity and notices."""
