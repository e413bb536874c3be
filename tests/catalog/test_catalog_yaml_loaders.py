"""The quick YAML loader (libyaml, lists at the top of a document built item by item) reads
exactly what the reference loader reads: the same values, the same line for every key and
item, so the same `file:line` problems; and on any problem it is the reference's that shows."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.bot.catalog import yamlload
from switchboard.bot.catalog.yamlload import YList, YMap, read_quickly
from switchboard.bot.catalog.yamlsource import SourceFile, load_documents
from tests.catalog.conftest import EXAMPLES, Parsed


def _shape(value: Any, seen: set[int] | None = None) -> Any:
    """A value with the line of every key and item, comparable with ==."""
    seen = set() if seen is None else seen
    if isinstance(value, YMap | YList):
        if id(value) in seen:  # a recursive alias
            return "<recursive>"
        seen = seen | {id(value)}
    if isinstance(value, YMap):
        return ("map", [(k, value.key_lines[k], _shape(v, seen)) for k, v in value.items()])
    if isinstance(value, YList):
        lines = value.item_lines
        return ("list", [(n, _shape(v, seen)) for v, n in zip(value, lines, strict=True)])
    return (type(value).__name__, repr(value))


def _read(text: str, *, quick: bool) -> tuple[list[Any], list[str]]:
    src = SourceFile(Path("catalog.yaml"))
    documents = load_documents(text, src, quick=quick)
    return [(doc.line, _shape(doc.raw)) for doc in documents], [str(p) for p in src.errors]


def _same_both_ways(text: str) -> tuple[list[Any], list[str]]:
    quick, exact = _read(text, quick=True), _read(text, quick=False)
    assert quick == exact
    return quick


def _yaml_files(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.rglob("*.y*ml")) if path.is_file()]


def test_example_files_read_the_same_both_ways() -> None:
    files = _yaml_files(EXAMPLES)
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        _same_both_ways(text)
        assert read_quickly(text) is not None


def test_real_files_read_the_same_both_ways(real_catalogs: Path) -> None:
    files = _yaml_files(real_catalogs)
    assert len(files) > 20
    quick_read = 0
    for path in files:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        _same_both_ways(text)
        quick_read += read_quickly(text) is not None
    assert quick_read > 20  # the quick loader did read them, it did not just give up


def write_native(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(textwrap.dedent(body).lstrip())
    return path


ANCHORS = """
    switchboard: 1
    x-oncall: &pager {pagerduty_service: PABC123}
    teams:
      - {id: payments, slack_channel: '#payments'}
    services:
      - id: checkout
        owner: payments
        tier: 1
        oncall: *pager
        x-defaults: &defaults
          owner: payments
          lifecycle: production
          tags: [pci]
      - <<: *defaults
        id: ledger
        oncall: *pager
      - {<<: *defaults, id: cart, lifecycle: beta}
      - id: search
        owner: nobody
"""


def test_streamed_lists_keep_anchors_merges_and_lines(
    tmp_path: Path, parse: Callable[..., Parsed]
) -> None:
    path = write_native(tmp_path, ANCHORS)
    assert _same_both_ways(path.read_text())[1] == []
    parsed = parse(path)
    assert parsed.errors == []
    assert parsed.warnings == [f"{path}:19: owner group:default/nobody is not in the catalog"]
    assert parsed["component:default/ledger"].lifecycle == "production"
    assert parsed["component:default/ledger"].tags == ["pci"]
    assert parsed["component:default/ledger"].oncall[0].target_id == "PABC123"
    assert parsed["component:default/cart"].lifecycle == "beta"
    assert parsed["component:default/cart"].source_line == 17
    # aliases share one value, as PyYAML's do: a copy each would multiply memory
    services = load_documents(path.read_text(), SourceFile(path))[0].raw["services"]
    assert services[0]["oncall"] is services[1]["oncall"]


def test_a_merge_overriding_a_merged_key_is_not_a_duplicate(
    tmp_path: Path, parse: Callable[..., Parsed]
) -> None:
    # Before, this said "duplicate key 'lifecycle'" at line 4: `over` was flattened by the
    # merge into `b` before its own turn, and its merged pairs were taken for its own.
    path = write_native(
        tmp_path,
        """
        switchboard: 1
        services:
          - id: a
            x-base: &base {tier: 1, lifecycle: beta}
            x-over: &over {<<: *base, lifecycle: production}
          - <<: *over
            id: b
        """,
    )
    _same_both_ways(path.read_text())
    parsed = parse(path)
    assert parsed.errors == []
    assert (parsed["component:default/b"].tier, parsed["component:default/b"].lifecycle) == (
        1,
        "production",
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        # a duplicate key early and a syntax error later: the syntax error, as before
        (
            "switchboard: 1\nservices:\n  - {id: a, id: b}\n  - {id: c\n",
            "catalog.yaml:5: invalid YAML: expected ',' or '}', but got '<stream end>' "
            "(while parsing a flow mapping on line 4)",
        ),
        (
            "switchboard: 1\nservices:\n  - id: a\n    id: b\n",
            "catalog.yaml:4: invalid YAML: duplicate key 'id'",
        ),
        (
            "switchboard: 1\nservices:\n  - *nope\n",
            "catalog.yaml:3: invalid YAML: found undefined alias 'nope'",
        ),
        (
            "switchboard: 1\nservices:\n  - {id: a}\n  - [\x07]\n",
            "catalog.yaml:4: invalid YAML: special characters are not allowed",
        ),
        (
            "switchboard: 1\nservices:\n  - <<: 3\n    id: a\n",
            "catalog.yaml:3: invalid YAML: expected a mapping or list of mappings for merging, "
            "but found scalar (while constructing a mapping on line 3)",
        ),
    ],
)
def test_problems_in_streamed_lists_are_the_reference_loaders(body: str, error: str) -> None:
    assert read_quickly(body) is None
    assert _same_both_ways(body)[1] == [error]


def test_documents_before_a_broken_one_are_kept_both_ways() -> None:
    docs, errors = _same_both_ways(
        "switchboard: 1\nservices: [{id: a}]\n---\nservices: [{id: b, id: c}]\n"
    )
    assert [line for line, _ in docs] == [1]
    assert errors == ["catalog.yaml:4: invalid YAML: duplicate key 'id'"]


def test_deep_nesting_is_reported_not_raised() -> None:
    assert _same_both_ways("services:\n  - " + "[" * 5000 + "]" * 5000 + "\n")[1] == [
        "catalog.yaml:1: invalid YAML: nested too deeply"
    ]


def test_recursive_alias_of_a_streamed_item() -> None:
    assert _same_both_ways("services:\n  - &a {id: x, self: *a}\n  - *a\n")[1] == []


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.integers(), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(["switchboard", "services", "teams", "x-a"]), yaml_values),
    st.booleans(),
)
def test_generated_documents_read_the_same_both_ways(doc: dict[str, Any], flow: bool) -> None:
    _same_both_ways(yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True))


@settings(max_examples=1000, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab:-[]{}&*!|>'\"#%@`,?<= \n\t\\$")),
    st.sampled_from(
        ["", "services:\n", "services:\n  - ", "a: &x {b: 1}\nservices:\n  - <<: *x\n    "]
    ),
)
def test_arbitrary_text_reads_the_same_both_ways(text: str, prefix: str) -> None:
    _same_both_ways(prefix + text)


BACKSTAGE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-{n}
  tags: [pci, "{n}"]
  annotations: {{pagerduty.com/service-id: P{n}}}
spec:
  type: service
  tier: {tier}
  owner: payments
  enabled: true
  retired: null
  weight: 1.5
  since: 2024-01-0{tier}
"""


def test_plain_documents_are_read_from_libyamls_own_nodes() -> None:
    # Backstage files hold one small document per entity: libyaml composes each (in C, lines
    # kept), and the values are built from its nodes, the same as the reference's.
    text = "---\n".join(BACKSTAGE.format(n=n, tier=n % 4 + 1) for n in range(30))
    assert yamlload._read_nodes(text) is not None
    assert not yaml.resolver.Resolver.yaml_path_resolvers  # the node loader skips them
    documents, errors = _same_both_ways(text)
    assert errors == []
    assert [line for line, _ in documents[:3]] == [1, 16, 31]  # after each `---` line


@pytest.mark.parametrize(
    "text",
    [
        "a: &x {b: 1}\nc: *x\n",  # an alias: shared values, counted against the budget
        "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n",  # a merge
        "a: 1\na: 2\n",  # a duplicate key: the reference loader's error
        "a: !!binary aGVsbG8=\n",  # a tag the node path does not build
        "? [a, b]\n: 1\n",  # a key that is no plain value
    ],
)
def test_what_the_node_path_does_not_build_is_left_to_the_other_loaders(text: str) -> None:
    assert yamlload._read_nodes(text) is None
    _same_both_ways(text)


def test_a_big_document_is_streamed_not_composed_whole() -> None:
    # composed whole, a 50,000-service native catalog (one document) took ~500 MB of nodes
    items = "".join(f"  - {{id: s{n}, owner: t}}\n" for n in range(60_000))
    text = f"switchboard: 1\nservices:\n{items}"
    assert len(text) > yamlload.NODE_DOCUMENT_CHARS
    assert not yamlload._documents_are_small(text)
    part = "".join(f"  - {{id: s{n}, owner: t}}\n" for n in range(30_000))
    assert yamlload._documents_are_small("---\n".join([f"services:\n{part}"] * 3))
