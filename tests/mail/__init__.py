"""Tests for mail."""
