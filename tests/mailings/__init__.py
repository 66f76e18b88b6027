"""Tests of newsletters and mailings sent from Engage."""
