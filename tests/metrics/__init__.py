"""Tests for metrics, media monitoring and reach reports."""
