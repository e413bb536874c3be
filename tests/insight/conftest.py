"""The incident world of `tests/incidents`, in Europe/Berlin (a daylight-saving change
falls in the seeded month), with a small scorecard, and a seeded history to measure."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.bot.platform.config import Config, InsightConfig, ScorecardsConfig
from tests.incidents.conftest import world  # noqa: F401  (the fixture, shared)

SCORECARD = """\
scorecard: ready
name: Ready
filter:
  kinds: [component]
levels: [Bronze, Silver, Gold]
rules:
  - id: owner
    title: Has an owning team
    level: Bronze
    check: field_present
    field: owner
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "ready.yaml"
    path.write_text(SCORECARD)
    return Config(
        timezone="Europe/Berlin",
        scorecards=ScorecardsConfig(paths=(str(path),)),
        insight=InsightConfig(min_services=1, min_incidents=2),
    )
