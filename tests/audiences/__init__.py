"""Tests for the stakeholder map."""
