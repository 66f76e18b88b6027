"""Tests for engage/mailings."""
