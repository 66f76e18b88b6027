"""Tests for mailings."""
