"""Hypothesis profiles, chosen by HYPOTHESIS_PROFILE: ``ci`` (derandomized, 1000 examples for the
core properties) and ``dev`` (fast, the default)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=1000, derandomize=True, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "dev", max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

collect_ignore = ["benchmarks", "examples", "checks/__main__.py", "gradcheck/__main__.py"]
