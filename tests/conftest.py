"""Hypothesis profiles for the fuzz tests. `ci`, the default, runs a bounded, derandomized set of
examples, so every run (and CI) tests the same ones; KERASTIPS_FUZZ_EXAMPLES=N runs N examples per
test with fresh randomness each run, to search further:

    KERASTIPS_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py
"""

import os

from hypothesis import HealthCheck, settings

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_SLOW, print_blob=True)
settings.register_profile("deep", max_examples=int(os.environ.get("KERASTIPS_FUZZ_EXAMPLES") or 1000),
                          deadline=None, suppress_health_check=_SLOW, print_blob=True)
settings.load_profile("deep" if os.environ.get("KERASTIPS_FUZZ_EXAMPLES") else "ci")
