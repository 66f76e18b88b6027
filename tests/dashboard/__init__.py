"""Tests for engage/dashboard."""
