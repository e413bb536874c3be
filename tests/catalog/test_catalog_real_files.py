"""The importers against real, public catalog files (see SOURCES.md next to them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.bot.catalog.loader import parse_paths
from switchboard.bot.catalog.model import (
    CONSUMES_API,
    MEMBER_OF,
    PARENT,
    PROVIDES_API,
    Link,
    OnCall,
    Relation,
)
from tests.conftest import REAL_CATALOG_FILES, REAL_CATALOGS, find_real_catalogs, on_ci

# Real-world files live outside the repository: `real_catalogs` (tests/conftest.py) finds
# them, and skips these tests where there are none (fails them on CI).


@pytest.fixture
def shared_catalogs(real_catalogs: Path) -> Path:
    return real_catalogs


def test_one_lookup_finds_the_real_files_or_says_why(tmp_path: Path) -> None:
    """The variable first, then the folders in order; nothing found is a reason to give."""
    first, second = tmp_path / "shared", tmp_path / "beside"
    second.mkdir()
    assert find_real_catalogs({}, [first, second]) == (second, "")
    first.mkdir()
    assert find_real_catalogs({}, [first, second]) == (first, "")
    env = {"SWITCHBOARD_TEST_CATALOGS": str(second)}
    assert find_real_catalogs(env, [first]) == (second, "")
    missing = str(tmp_path / "nowhere")
    assert find_real_catalogs({"SWITCHBOARD_TEST_CATALOGS": missing}, [first]) == (
        None,
        f"SWITCHBOARD_TEST_CATALOGS={missing} is not a folder",  # no falling back: it was asked
    )
    assert find_real_catalogs({}, [tmp_path / "a", tmp_path / "b"]) == (
        None,
        "real catalog files not found: set SWITCHBOARD_TEST_CATALOGS to their folder "
        f"(none at {tmp_path / 'a'} or {tmp_path / 'b'})",
    )
    assert on_ci({"CI": "true"}) and not on_ci({}) and not on_ci({"CI": "false"})


@pytest.mark.parametrize(
    "path",
    REAL_CATALOG_FILES or [None],  # None: no files here, and `real_catalogs` says why
    ids=lambda path: str(path.relative_to(REAL_CATALOGS)) if path and REAL_CATALOGS else "none",
)
def test_every_real_file_parses_without_errors(real_catalogs: Path, path: Path) -> None:
    result = parse_paths([path])
    assert result.errors == []
    assert str(path.resolve()) in result.files


def test_the_whole_folder_only_warns(shared_catalogs, parse) -> None:
    parsed = parse(shared_catalogs)
    warnings = [w.removeprefix(f"{shared_catalogs}/") for w in parsed.warnings]
    assert parsed.errors == []
    assert warnings == [
        "OpsLevel-sales-demo__support_console/opslevel.yml:7: "
        "owner group:default/internal_tools is not in the catalog",
        "backstage__backstage/acme/org.yaml:24: Location target ./team-b-group.yaml not found",
        "backstage__backstage/acme/org.yaml:25: Location target ./team-c-group.yaml not found",
        "backstage__backstage/acme/org.yaml:26: Location target ./team-d-group.yaml not found",
        *(
            f"backstage__backstage/all-components.yaml:{line}: "
            f"Location target ./components/{name}-component.yaml not found"
            for line, name in enumerate(
                ["workplace", "mapping", "aware", "analytics", "maps-analytics", "odp-analytics"],
                start=8,
            )
        ),
        "backstage__backstage/all.yaml:8: Location target ./all-ai-resources.yaml not found",
        "backstage__backstage/all.yaml:9: Location target ./all-apis.yaml not found",
        "backstage__backstage/all.yaml:11: Location target ./all-domains.yaml not found",
        "backstage__backstage/all.yaml:12: Location target ./all-resources.yaml not found",
        "backstage__backstage/all.yaml:13: Location target ./all-systems.yaml not found",
        "backstage__backstage/apis/hello-world-api.yaml:9: "
        "owner group:default/team-c is not in the catalog",
        "backstage__backstage/components/petstore-component.yaml:14: "
        "owner group:default/team-c is not in the catalog",
        "backstage__backstage/components/podcast-api-component.yaml:11: "
        "owner group:default/team-b is not in the catalog",
        "backstage__backstage/domains/playback-domain.yaml:7: "
        "owner user:default/frank.tiernan is not in the catalog",
        "backstage__backstage/systems/podcast-system.yaml:7: "
        "owner user:default/team-b is not in the catalog",
        "backstage__demo/catalog-info.yaml:10: "
        "owner group:backstage/maintainers is not in the catalog",
        "backstage__demo/catalog-info.yaml:23: "
        "owner group:backstage/maintainers is not in the catalog",
        "cortexapps__cli/cortexapps_cli/solutions/github-actions-deploy/scorecards/"
        "deploy-health.yaml:1: not a catalog file (Backstage, Cortex, OpsLevel or Switchboard), "
        "skipped",
        "cortexapps__scorecard-library/scorecard-definitions/Incident Preparedness/"
        "incident-preparedness.yaml:1: not a catalog file (Backstage, Cortex, OpsLevel or "
        "Switchboard), skipped",
    ]
    assert len(parsed.result.files) == len(REAL_CATALOG_FILES)  # Location targets read once


def test_cortex_moneymouth(shared_catalogs, parse) -> None:
    path = shared_catalogs / "Cortex-Customer-Engineering__moneymouth/cortex.yaml"
    service = parse(path)["component:default/moneymouth"]
    assert (service.type, service.title) == ("service", "moneymouth")
    assert service.oncall == [OnCall("pagerduty", "schedule", "12435")]
    assert service.slack_channels == ["#moneymouth"]
    assert service.links == [
        Link(
            "repo",
            "https://github.com/Cortex-Customer-Engineering/moneymouth",
            "Cortex-Customer-Engineering/moneymouth",
        )
    ]
    assert (service.source_file, service.source_line) == (str(path), 1)


def test_cortex_team_members_links_and_groups(shared_catalogs, parse) -> None:
    parsed = parse(shared_catalogs / "cortexapps__cli")
    team = parsed["group:default/cli-test-team-parent"]
    assert (team.type, team.title, team.tags) == ("team", "Test Team Parent", ["cli-test"])
    member = parsed["user:default/richard.lafleur@trailer-park.io"]
    assert (member.title, member.email) == ("Richard LaFleur", "richard.lafleur@trailer-park.io")
    assert member.relations == [Relation(MEMBER_OF, team.ref)]
    assert member.source_line == 8
    links = parsed["component:default/cli-test-service-links"].links
    assert links == [Link("docs", "https://cortex.io", "Cortex")]
    assert parsed["domain:default/cli-test-domain-parent"].title == "Test Domain Parent"


def test_opslevel_support_console(shared_catalogs, parse) -> None:
    parsed = parse(shared_catalogs / "OpsLevel-sales-demo__support_console/opslevel.yml")
    service = parsed["component:default/support-console"]
    assert (service.title, service.tier, service.lifecycle) == ("Support Console", 3, "end-of-life")
    assert service.owners == ["group:default/internal_tools"]
    assert service.oncall == [OnCall("pagerduty", "service", "P88H2N0")]
    assert service.aliases == []
    assert service.tags == ["language:Ruby", "framework:Sinatra"]
    assert (
        service.description
        == "Used by the Customer Support team to manage inbound support requests."
    )
    by_type = {link.type: link for link in service.links}
    assert by_type["incidents"] == Link(
        "incidents", "https://opslevel.pagerduty.com/services/P88H2N0", "PagerDuty (Production)"
    )
    assert by_type["logs"].url == "https://logs.bigriver.com/supportconsole_service"
    assert by_type["repo"].url == "https://github.com/OL-Demo/support_console"
    assert {link.type for link in service.links} == {
        "orchestrator",
        "errors",
        "health_checks",
        "logs",
        "incidents",
        "repo",
    }


def test_backstage_team_a_members(shared_catalogs, parse) -> None:
    parsed = parse(shared_catalogs / "backstage__backstage/acme/team-a-group.yaml")
    team = parsed["group:default/team-a"]
    assert (team.type, team.title, team.email) == ("team", "", "team-a@example.com")
    assert team.relations == [Relation(PARENT, "group:default/backstage")]
    members = [
        e.ref for e in parsed.result.entities if Relation(MEMBER_OF, team.ref) in e.relations
    ]
    assert members == [
        "user:default/breanna.davison",
        "user:default/janelle.dawe",
        "user:default/nigel.manning",
        "user:default/guest",
        "user:development/guest",
    ]
    janelle = parsed["user:default/janelle.dawe"]
    assert (janelle.title, janelle.email, janelle.source_line) == (
        "Janelle Dawe",
        "janelle-dawe@example.com",
        26,
    )
    assert parsed["user:default/guest"].source_line == 51  # after the comment lines


def test_backstage_group_tree_from_both_sides(shared_catalogs, parse) -> None:
    parsed = parse(shared_catalogs / "backstage__backstage/acme/org.yaml")  # follows its Location
    assert parsed["group:default/infrastructure"].relations == [
        Relation(PARENT, "group:default/acme-corp")  # once, though declared from both sides
    ]
    assert parsed["group:default/backstage"].relations == [
        Relation(PARENT, "group:default/infrastructure")
    ]
    assert parsed["group:default/backstage"].title == "Backstage"
    assert len(parsed.result.files) == 5


def test_backstage_demo_owner_and_repo(shared_catalogs, parse) -> None:
    parsed = parse(shared_catalogs / "backstage__demo/catalog-info.yaml")
    demo = parsed["component:default/backstage-demo"]
    assert demo.owners == ["group:backstage/maintainers"]
    assert demo.links == [Link("repo", "https://github.com/backstage/demo", "GitHub")]
    assert demo.relations == [Relation(CONSUMES_API, "api:default/demo-graphql")]
    api = parsed["api:default/demo-graphql"]  # its `$text` definition is not read, no crash
    assert (api.type, api.lifecycle, api.source_line) == ("graphql", "production", 15)


def test_backstage_components(shared_catalogs, parse) -> None:
    parsed = parse(shared_catalogs / "backstage__backstage/components")
    www = parsed["component:default/www-artist"]
    assert www.relations == [Relation(CONSUMES_API, "component:default/artist-lookup")]
    assert (www.type, www.system) == ("website", "system:default/artist-engagement-portal")
    petstore = parsed["component:default/petstore"]
    assert petstore.links == [
        Link("repo", "https://github.com/swagger-api/swagger-petstore", "GitHub Repo")
    ]
    assert [r.target for r in petstore.relations if r.type == PROVIDES_API] == [
        "api:default/petstore",
        "api:default/streetlights",
        "api:default/hello-world",
    ]
    assert parsed["component:default/playback-order"].owners == ["user:default/guest"]
    lookup = parsed["component:default/artist-lookup"]
    assert [link.type for link in lookup.links] == [
        "other",
        "other",
        "other",
        "dashboard",
        "other",
        "other",
        "other",
    ]
    assert lookup.tags == ["java", "data"]


def test_backstage_domains_systems_resources(shared_catalogs, parse) -> None:
    parsed = parse(shared_catalogs / "backstage__backstage")
    artists = parsed["domain:default/artists"]
    assert artists.title == "Artists"
    assert [link.type for link in artists.links] == ["docs", "dashboard"]
    portal = parsed["system:default/artist-engagement-portal"]
    assert (portal.domain, portal.tags) == ("domain:default/artists", ["portal"])
    assert parsed["resource:default/artists-db"].type == "database"
    assert parsed["api:default/hello-world"].lifecycle == "deprecated"
