"""Survey tests."""
