"""Tests for the action plan."""
