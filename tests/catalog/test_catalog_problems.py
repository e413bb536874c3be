"""Errors and warnings: exact `file:line: message` for broken or doubtful input."""

from __future__ import annotations

import pytest

COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  owner: team-x
"""
TEAM = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-x
"""


def test_yaml_syntax_error_points_at_the_line(write, parse) -> None:
    path = write(
        "broken.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: a
          tags: [x, y
        spec: {}
    """,
    )
    parsed = parse(path)
    assert parsed.errors == [
        f"{path}:6: invalid YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence on line 5)"
    ]
    assert parsed.result.files == [str(path)]
    assert not parsed.result.ok


def test_documents_before_a_syntax_error_are_kept(write, parse) -> None:
    path = write("partly.yaml", COMPONENT.format(name="kept") + "---\nkind: [\n")
    parsed = parse(path)
    assert parsed.refs == ["component:default/kept"]
    assert parsed.errors == [
        f"{path}:9: invalid YAML: expected the node content, but found '<stream end>' "
        "(while parsing a flow node on line 9)"
    ]


def test_missing_name_points_at_metadata(write, parse) -> None:
    path = write(
        "noname.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          description: nameless
    """,
    )
    assert parse(path).errors == [f"{path}:3: metadata.name is required"]


def test_missing_metadata_and_kind(write, parse) -> None:
    path = write(
        "bare.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n---\n"
        "apiVersion: backstage.io/v1alpha1\nmetadata: {name: x}\n",
    )
    assert parse(path).errors == [f"{path}:1: metadata is required", f"{path}:4: kind is required"]


@pytest.mark.parametrize(
    ("tier", "message"),
    [
        ("abc", "got 'abc'"),
        ("12", "got 12"),
        ("[1]", "got a list"),
        ("true", "got true"),
    ],
)
def test_bad_tier(write, parse, tier: str, message: str) -> None:
    path = write("tier.yaml", COMPONENT.format(name="a") + f"  tier: {tier}\n---\n" + TEAM)
    parsed = parse(path)
    assert parsed.errors == [
        f"{path}:7: spec.tier: expected a tier such as 1, tier-1 or tier_1 (0 to 9), {message}"
    ]
    assert parsed["component:default/a"].tier is None  # the rest of the entity is kept


def test_wrong_types_are_errors_at_their_line(write, parse) -> None:
    path = write(
        "types.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: a
          links:
            url: https://example.com
          tags: [ok, {no: pe}]
          title: [not, text]
        spec: [1, 2]
    """,
    )
    assert parse(path).errors == [
        f"{path}:5: metadata.links: expected a list, got a mapping",
        f"{path}:7: metadata.tags[1]: expected a string, got a mapping",
        f"{path}:8: metadata.title: expected a string, got a list",
        f"{path}:9: spec: expected a mapping, got a list",
    ]


def test_non_mapping_document_is_an_error(write, parse) -> None:
    path = write("list.yaml", "- a\n- b\n---\njust text\n---\n")
    assert parse(path).errors == [
        f"{path}:1: a catalog document must be a mapping, got a list",
        f"{path}:4: a catalog document must be a mapping, got text",
    ]


def test_duplicate_key_is_an_error(write, parse) -> None:
    path = write("dupkey.yaml", COMPONENT.format(name="a") + "  owner: team-y\n")
    assert parse(path).errors == [f"{path}:7: invalid YAML: duplicate key 'owner'"]


def test_not_a_catalog_file_is_a_warning(write, parse) -> None:
    path = write(".github/workflows/ci.yml", "name: CI\non: push\njobs: {}\n")
    parsed = parse(path)
    assert parsed.errors == []
    assert parsed.warnings == [
        f"{path}:1: not a catalog file (Backstage, Cortex, OpsLevel or Switchboard), skipped"
    ]


def test_unknown_and_skipped_kinds_warn(write, parse) -> None:
    path = write(
        "kinds.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Template
        metadata: {name: t}
        ---
        apiVersion: backstage.io/v1beta3
        kind: Widget
        metadata: {name: w}
    """,
    )
    parsed = parse(path)
    assert parsed.refs == []
    assert parsed.warnings == [
        f"{path}:1: kind Template is not imported, skipped",
        f"{path}:5: kind Widget is not imported, skipped",
    ]


def test_duplicate_entity_warns_with_both_places_and_first_wins(write, parse) -> None:
    first = write("a.yaml", COMPONENT.format(name="svc") + "  lifecycle: first\n" + "---\n" + TEAM)
    second = write(
        "b.yaml", "# the same, again\n" + COMPONENT.format(name="SVC") + "  lifecycle: second\n"
    )
    parsed = parse(first.parent)
    assert parsed.warnings == [
        f"{second}:2: duplicate entity component:default/svc, first defined at {first}:1; skipped"
    ]
    assert parsed["component:default/svc"].lifecycle == "first"


def test_unknown_owner_warns_after_all_files(write, parse) -> None:
    component = write("a.yaml", COMPONENT.format(name="a"))
    missing = write("b.yaml", COMPONENT.format(name="b").replace("team-x", "nobody"))
    write("z-team.yaml", TEAM)  # read last: owners are only checked once every file is read
    parsed = parse(component.parent)
    assert parsed.warnings == [f"{missing}:6: owner group:default/nobody is not in the catalog"]


def test_owner_by_email_resolves_to_a_person_with_that_email(write, parse) -> None:
    path = write(
        "cortex.yaml",
        """
        openapi: 3.0.1
        info:
          x-cortex-tag: svc
          x-cortex-owners:
            - type: email
              email: Ann@Example.com
            - type: email
              email: nobody@example.com
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata: {name: ann}
        spec:
          profile: {email: ann@example.com}
    """,
    )
    parsed = parse(path)
    assert parsed["component:default/svc"].owners == [
        "user:email/ann@example.com",
        "user:email/nobody@example.com",
    ]
    assert parsed.warnings == [
        f"{path}:7: owner user:email/nobody@example.com is not in the catalog"
    ]


def test_missing_path_is_an_error(tmp_path, parse) -> None:
    assert parse(tmp_path / "nope").errors == [f"{tmp_path}/nope:1: no such file or directory"]


def test_invalid_utf8_is_an_error_at_its_line(tmp_path, parse) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"switchboard: 1\nteams:\n  - id: caf\xe9\n")
    assert parse(path).errors == [f"{path}:3: not UTF-8 text"]


def test_substitutions_are_not_followed(write, parse) -> None:
    path = write(
        "subst.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: API
        metadata:
          name: a
          description:
            $text: ./README.md
        spec:
          definition:
            $text: https://example.com/openapi.yaml
    """,
    )
    parsed = parse(path)
    assert parsed.errors == []
    assert parsed.warnings == [f"{path}:5: metadata.description: $text substitutions are not read"]
    assert parsed["api:default/a"].description == ""


def test_names_that_are_not_ids_import_and_only_an_empty_id_is_an_error(write, parse) -> None:
    odd = write("odd.yaml", COMPONENT.format(name="'team x/svc'"))
    parsed = parse(odd)
    assert (parsed.errors, parsed.refs) == ([], ["component:default/team-x-svc"])
    assert parsed["component:default/team-x-svc"].aliases == ["team x/svc"]
    empty = write("empty.yaml", COMPONENT.format(name="' / : '"))
    assert parse(empty).errors == [
        f"{empty}:4: metadata.name: '/ :' has nothing to make an id of (only ':', '/' or spaces)"
    ]


def test_cortex_oncall_problems(write, parse) -> None:
    path = write(
        "cortex.yaml",
        """
        openapi: 3.0.1
        info:
          x-cortex-tag: svc
          x-cortex-oncall:
            pagerduty:
              id: P123
              type: ROTA
            victorops:
              id: x
              type: SCHEDULE
    """,
    )
    parsed = parse(path)
    assert parsed.errors == [
        f"{path}:7: info.x-cortex-oncall.pagerduty.type: expected one of SERVICE, SCHEDULE, "
        "ESCALATION_POLICY, got 'ROTA'"
    ]
    assert parsed.warnings == [
        f"{path}:8: info.x-cortex-oncall.victorops: victorops on-call is not supported, skipped"
    ]


def test_cortex_descriptor_without_tag(write, parse) -> None:
    path = write("cortex.yaml", "openapi: 3.0.1\ninfo:\n  title: x\n  x-cortex-type: service\n")
    assert parse(path).errors == [f"{path}:2: info.x-cortex-tag is required"]


def test_native_problems(write, parse) -> None:
    path = write(
        "catalog.yaml",
        """
        switchboard: 1
        x-defaults: &defaults {owner: team-x, tier: 2}
        teams:
          - id: team-x
            members: [nobody]
        services:
          - id: svc
            <<: *defaults
            runboook: https://example.com/typo
            oncall:
              integration_key: secret
          - just-a-name
          - id: thing
            kind: widget
    """,
    )
    parsed = parse(path)
    assert parsed.errors == [
        f"{path}:5: teams[0].members[0]: 'nobody' is not a person in people:, "
        "a Slack user id (U…) or an e-mail address",
        f"{path}:11: services[0].oncall.integration_key: needs pagerduty_service, "
        "the service it belongs to",
        f"{path}:12: services[1]: expected a mapping, got 'just-a-name'",
    ]
    assert parsed.warnings == [
        f"{path}:9: services[0].runboook: unknown field, ignored",
        f"{path}:14: services[2].kind: kind widget is not imported, skipped",
    ]
    assert parsed["component:default/svc"].tier == 2  # from the merged defaults


def test_native_unsupported_version(write, parse) -> None:
    path = write("catalog.yaml", "switchboard: 2\nteams: []\n")
    assert parse(path).errors == [
        f"{path}:1: switchboard: format version 2 is not supported (expected 1)"
    ]


def test_location_targets(write, parse) -> None:
    write("services/a/catalog-info.yaml", COMPONENT.format(name="a"))
    write("services/b/catalog-info.yaml", COMPONENT.format(name="b"))
    write("teams.yaml", TEAM)
    location = write(
        "all.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata:
          name: all
        spec:
          target: ./teams.yaml
          targets:
            - ./services/*/catalog-info.yaml
            - ./missing.yaml
            - https://github.com/org/repo/blob/main/catalog-info.yaml
            - ./teams.yaml
    """,
    )
    parsed = parse(location)
    assert parsed.refs == ["group:default/team-x", "component:default/a", "component:default/b"]
    assert parsed.warnings == [
        f"{location}:9: Location target ./missing.yaml not found",
        f"{location}:10: Location target https://github.com/org/repo/blob/main/catalog-info.yaml "
        "is not a path relative to this file, not followed",
    ]
    assert len(parsed.result.files) == 4  # each file once
