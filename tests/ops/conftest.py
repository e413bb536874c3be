"""The incident-ready world of tests/incidents, for the operations tests."""

from tests.incidents.conftest import config, world

__all__ = ["config", "world"]
