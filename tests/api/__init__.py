"""Tests for engage/api."""
