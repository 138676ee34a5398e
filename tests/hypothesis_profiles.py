"""Hypothesis settings profiles, selected by the ``HYPOTHESIS_PROFILE`` environment variable.

``ci`` (default): reproducible (``derandomize``), sized for the CI budget.
``long``: random seeds, twenty times the steps (``make test-long``).
``dev``: a quick smoke run while editing a state machine.

Importing this module registers the profiles and loads the selected one. Each profile also names
the minimum number of state-machine steps a stateful test must execute under it
(:func:`step_target`), so a test can assert it did not silently run less.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["PROFILE", "STEP_TARGETS", "profile_settings", "step_target"]

STEP_TARGETS = {"ci": 10_000, "long": 200_000, "dev": 500}
"""Minimum total state-machine steps per stateful test under each profile."""

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
"""Each step is real JSON-RPC round trips, so timing varies with the machine: no deadline either."""

# A few examples above the step target: Hypothesis ends some examples early (its generator explores
# the "stop here" choice too), and the step assertion must not be flaky.
settings.register_profile(
    "ci",
    max_examples=230,
    stateful_step_count=50,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=_SLOW_OK,
)
settings.register_profile(
    "long", max_examples=2_500, stateful_step_count=100, deadline=None, suppress_health_check=_SLOW_OK
)
settings.register_profile(
    "dev",
    max_examples=12,
    stateful_step_count=50,
    database=None,
    deadline=None,
    suppress_health_check=_SLOW_OK,
)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in STEP_TARGETS:
    raise RuntimeError(f"HYPOTHESIS_PROFILE={PROFILE!r}: expected one of {sorted(STEP_TARGETS)}")
settings.load_profile(PROFILE)


def step_target() -> int:
    """Minimum number of state-machine steps a stateful test must run under the loaded profile."""
    return STEP_TARGETS[PROFILE]


def profile_settings() -> settings:
    """The settings of the loaded profile."""
    return settings.get_profile(PROFILE)
