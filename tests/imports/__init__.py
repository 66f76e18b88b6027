"""Tests for importing and exporting tables."""
