"""Tests for browser."""
