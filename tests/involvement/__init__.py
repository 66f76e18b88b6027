"""Tests of involvement activities."""
