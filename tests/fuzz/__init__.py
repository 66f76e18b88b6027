"""Fuzz targets: Hypothesis in the suite (time-boxed), atheris by hand (make fuzz)."""
