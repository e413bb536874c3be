"""The incident world of `tests/incidents`: follow-ups need incidents to hang on."""

from tests.incidents.conftest import config, world  # noqa: F401  (fixtures, shared)
