"""Benchmarks: a county-scale data generator and a runner (``engage bench``)."""
