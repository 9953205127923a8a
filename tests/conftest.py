"""Hypothesis profiles for the whole suite.

``ci`` (the default): derandomised, so every run draws the same examples and a failure repeats;
no per-example deadline (a wall-clock limit would make the suite fail on a loaded machine).
``dev``: random examples, fewer of them where a test does not set its own count. Choose with
``HYPOTHESIS_PROFILE=dev``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "ci", deadline=None, derandomize=True, database=None, print_blob=True,
    suppress_health_check=_SLOW_OK,
)
settings.register_profile("dev", deadline=None, max_examples=30, suppress_health_check=_SLOW_OK)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
