"""Tests of the personal-data breach register."""
