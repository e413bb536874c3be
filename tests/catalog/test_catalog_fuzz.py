"""Whatever YAML the importers are fed, they report problems; they never raise."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.bot.catalog.loader import parse_paths

# Field names the importers look for, so that generated documents reach deep into them.
# fmt: off
FIELD_NAMES = [
    "apiVersion", "kind", "metadata", "spec", "name", "namespace", "title", "description",
    "tags", "links", "url", "icon", "type", "annotations", "owner", "system", "domain",
    "dependsOn", "dependencyOf", "providesApis", "consumesApis", "memberOf", "parent",
    "children", "members", "profile", "email", "displayName", "tier", "lifecycle", "target",
    "targets", "pagerduty.com/service-id", "pagerduty.com/integration-key",
    "opsgenie.com/team", "github.com/project-slug", "backstage.io/source-location",
    "slack.com/bot-notify", "slack.com/user-id", "$text", "info", "x-cortex-tag",
    "x-cortex-type", "x-cortex-owners", "x-cortex-oncall", "x-cortex-slack", "channels",
    "x-cortex-link", "x-cortex-git", "github", "azure", "repository", "project",
    "x-cortex-groups", "x-cortex-dependency", "x-cortex-team", "x-cortex-parents",
    "x-cortex-children", "tag", "pagerduty", "opsgenie", "victorops", "id", "channel",
    "version", "service", "aliases", "tools", "category", "environment", "repositories",
    "provider", "dependencies", "alias", "alert_sources", "external_id", "key", "value",
    "switchboard", "teams", "people", "services", "slack_id", "slack_channel",
    "slack_usergroup", "oncall", "pagerduty_service", "integration_key", "runbook", "repo",
    "docs", "dashboards", "depends_on",
]
KINDS = [
    "Component", "API", "Group", "User", "Location", "System", "Domain", "Resource",
    "Template", "component", "Nope",
]
# Values that mean something to some importer.
SPECIAL_VALUES = [
    "tier_1", "tier-12", "SCHEDULE", "group", "email", "slack", "./x.yaml", "user:a", "a/b",
    "https://github.com/a/b", "slack://channel?id=C0123456", "2024-13-45", "U0123ABCD",
    "a@b.c", "*", "../*",
]
# fmt: on

keys = st.sampled_from(FIELD_NAMES) | st.text(max_size=8) | st.integers()
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(SPECIAL_VALUES)
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=30,
)
documents = st.one_of(
    values,
    st.fixed_dictionaries(
        {"apiVersion": st.just("backstage.io/v1alpha1"), "kind": st.sampled_from(KINDS)},
        optional={"metadata": values, "spec": values},
    ),
    st.fixed_dictionaries(
        {"openapi": st.just("3.0.1"), "info": st.dictionaries(keys, values, max_size=8)}
    ),
    st.fixed_dictionaries(
        {"version": st.just(1), "service": st.dictionaries(keys, values, max_size=8)}
    ),
    st.fixed_dictionaries(
        {"switchboard": st.sampled_from([1, "1", 2, True])},
        optional={"teams": values, "people": values, "services": values},
    ),
)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _parse(fuzz_dir: Path, text: str) -> None:
    path = fuzz_dir / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    result = parse_paths([path])
    assert result.files == [str(path.resolve())]
    for problem in result.errors + result.warnings:
        assert problem.line >= 1 and problem.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents, min_size=1, max_size=3))
def test_arbitrary_documents_never_raise(fuzz_dir: Path, docs: list[object]) -> None:
    _parse(fuzz_dir, yaml.safe_dump_all(docs))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab:-[]{}&*!|>'\"#%@`,? \n\t\\$<")) | st.text())
def test_arbitrary_text_never_raises(fuzz_dir: Path, text: str) -> None:
    _parse(fuzz_dir, text)
