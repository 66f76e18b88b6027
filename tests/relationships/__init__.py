"""Tests of the stakeholder relationship log."""
