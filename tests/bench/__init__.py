"""Tests for engage/bench."""
