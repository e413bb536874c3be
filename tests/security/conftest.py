"""Hypothesis, kept fast and repeatable (a fixed, derandomized run of few examples), and the
incident world of tests/incidents."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

# The incident-ready world (catalog, workspace, pagers, the app on a clock) of tests/incidents.
from tests.incidents.conftest import config, world  # noqa: F401

FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    # No "explain" phase: on the large inputs here it takes minutes to say what varied.
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# For the properties whose inputs are large (catalog entities with every field hostile).
FEW = settings(FAST, max_examples=25)

# The payload properties (test_payload_properties.py): each example is a signed HTTP request,
# so CI draws a few per listener; `HYPOTHESIS_PROFILE=nightly` draws many (a local run).
settings.register_profile("payloads-ci", FAST, max_examples=12)
settings.register_profile("payloads-nightly", FAST, max_examples=400)
NIGHTLY = os.environ.get("HYPOTHESIS_PROFILE") == "nightly"
PAYLOADS = settings.get_profile("payloads-nightly" if NIGHTLY else "payloads-ci")
