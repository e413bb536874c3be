"""The operations docs name every setting and every metric there is."""

from __future__ import annotations

import re

from switchboard.bot.platform.metrics import Metrics
from switchboard.settings import Settings
from tests.conftest import ROOT

OPERATIONS = (ROOT / "docs" / "operations.md").read_text()
README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_both_settings_tables() -> None:
    for field in Settings.model_fields.values():
        assert f"| `{field.alias}` |" in OPERATIONS, field.alias
        assert f"| `{field.alias}` |" in README, field.alias


def test_every_metric_is_documented() -> None:
    """Counters are exposed with `_total`; the open-incident gauge appears only once read
    from the database, so it is not among what a fresh registry collects."""
    families = {metric.name: metric.type for metric in Metrics().registry.collect()}
    assert len(families) == 6
    for name, kind in families.items():
        exposed = f"{name}_total" if kind == "counter" else name
        assert f"| `{exposed}` | {kind} |" in OPERATIONS, exposed
    assert "| `switchboard_incidents_open` | gauge |" in OPERATIONS
    assert "[docs/operations.md](docs/operations.md)" in README


def test_the_readme_links_only_to_files_in_the_repository() -> None:
    """A pointer to a file outside the checkout (`../shared/DESIGN.md`) is one a user's
    clone does not have."""
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if "://" not in t and not t.startswith("mailto:")]
    assert local
    assert [t for t in local if not (ROOT / t).exists()] == []
    assert "../" not in README.replace("](../", "")  # no path out of the checkout in text


def test_the_readme_lists_every_command_and_the_timeline_settings() -> None:
    for command in ("scorecards check", "catalog check", "jobs list", "jobs run", "postmortem"):
        assert f"| `switchboard {command}" in README, command
    for key in ("timeline_emojis:", "confirm_emoji:", "postmortem_template:"):
        assert f"\n  {key}" in README, key
