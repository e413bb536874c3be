"""Whatever YAML (or text) the scorecard loader and the catalog importers are given, they
load it or answer with `file:line: message` problems; they never raise. The catalog's own
fuzz test (tests/catalog/test_catalog_fuzz.py) steers documents into each catalog format;
this one does the same for scorecards, and feeds both the same arbitrary text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from switchboard.bot.catalog.loader import parse_paths
from switchboard.bot.scorecards.loader import load_paths
from tests.security.conftest import FAST
from tests.security.slack_checks import hostile_text

# fmt: off
FIELDS = [
    "scorecard", "name", "description", "filter", "levels", "rules", "exemptions", "kinds",
    "types", "tiers", "lifecycles", "tags", "id", "title", "level", "weight", "check", "rule",
    "service", "reason", "until", "scope", "field", "link", "tag", "tier", "max", "values",
    "older_than_days", "severities", "days", "ladder", "expression", "x-cortex-tag", "type",
]
CHECKS = [
    "field_present", "link_exists", "tag_present", "tag_absent", "tier_at_most", "tier_in",
    "lifecycle_in", "dependencies_declared", "no_unresolved_incidents",
    "no_overdue_followups", "time_to_resolve", "nope",
]
SPECIAL = [
    "Bronze", "Silver", "Gold", "owner", "runbook", "repo", "2026-01-01", "2026-13-45",
    "component", "team", "service", "SEV1", "git != null", "links(\"runbook\").length > 0",
    "hasGroup(\"tier-1\")", "/* placeholder */", "<!channel>",
]
# fmt: on
keys = st.sampled_from(FIELDS) | st.text(max_size=8) | st.integers()
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(SPECIAL + CHECKS)
    | st.dates()
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=30,
)
rules = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.text(max_size=10) | st.sampled_from(["a", "b"]),
            "check": st.sampled_from(CHECKS),
        },
        optional={f: values for f in ("level", "weight", "field", "link", "tag", "max", "scope")},
    ),
    max_size=4,
)
documents = st.one_of(
    values,
    st.fixed_dictionaries(
        {"scorecard": st.text(max_size=10) | st.just("ready"), "rules": rules | values},
        optional={f: values for f in ("name", "filter", "levels", "exemptions", "description")},
    ),
    st.fixed_dictionaries(
        {"tag": st.text(max_size=10) | st.just("ready"), "rules": st.lists(values, max_size=3)},
        optional={"ladder": values, "name": values, "filter": values},
    ),
)
text_with_yaml_syntax = st.text(alphabet=st.sampled_from("ab:-[]{}&*!|>'\"#%@`,? \n\t\\$<"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("importers")


def load_scorecards(folder: Path, text: str) -> None:
    path = folder / "scorecard.yaml"
    path.write_text(text, encoding="utf-8")
    result = load_paths([path])
    assert result.files == [str(path)]
    for problem in result.errors + result.warnings:
        assert problem.line >= 1 and problem.message
        assert str(problem).startswith(f"{path}:{problem.line}: ")
    assert not result.errors or result.ok is False


@FAST
@given(st.lists(documents, min_size=1, max_size=3))
def test_scorecards_from_any_documents(folder: Path, docs: list[object]) -> None:
    load_scorecards(folder, yaml.safe_dump_all(docs))


@FAST
@given(text_with_yaml_syntax | hostile_text)
def test_scorecards_and_catalogs_from_any_text(folder: Path, text: str) -> None:
    load_scorecards(folder, text)
    path = folder / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    result = parse_paths([path])
    for problem in result.errors + result.warnings:
        assert problem.line >= 1 and problem.message
        assert str(problem).startswith(f"{path.resolve()}:{problem.line}: ")
