"""Fuzzing budget: each Hypothesis target runs a bounded number of examples.

The whole folder runs in well under 30 s in CI. Run longer by hand with
``ENGAGE_FUZZ_EXAMPLES=20000 pytest tests/fuzz`` or the atheris targets (``make fuzz``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck
from hypothesis import settings

EXAMPLES = int(os.environ.get("ENGAGE_FUZZ_EXAMPLES", "200"))

settings.register_profile(
    "engage-fuzz",
    max_examples=EXAMPLES,
    deadline=None,  # the shared CI machine is noisy; the budget is the example count
    derandomize=False,
    # The app-context fixture is function-scoped but nothing written survives a
    # preview, so sharing it between examples is harmless.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUZZ = settings.get_profile("engage-fuzz")
#: Targets that build or parse whole workbooks cost ~10x more per example.
FUZZ_HEAVY = settings(FUZZ, max_examples=max(20, EXAMPLES // 4))
#: Reading a workbook starts a process of its own (tabular.xlsx_reader): ~50x more.
FUZZ_WORKBOOK = settings(FUZZ, max_examples=max(10, EXAMPLES // 10))
