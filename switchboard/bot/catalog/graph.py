"""The catalog's dependency graph in memory: who depends on what (`dependsOn`, from every
format: Backstage's dependsOn and dependencyOf, Cortex's and OpsLevel's dependencies, our
`depends_on`), both ways, with each entity's name and owning teams and each team's name and
channel. Built once per catalog revision with the name indexes (`CatalogReader`), so a
declare with many affected services asks the database nothing more."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PEOPLE_KINDS = ("user",)


@dataclass(frozen=True, slots=True)
class DependencyNode:
    ref: str
    name: str  # the display name
    owners: tuple[str, ...]  # owner refs (teams and people)
    channel: str = ""  # a team's first Slack channel ("#name" or "C…"), "" for none


@dataclass(frozen=True, slots=True)
class Dependent:
    """A service that depends, directly (depth 1) or through others, on an affected one."""

    node: DependencyNode
    depth: int
    via: str  # the ref of the affected service it leads to


@dataclass(frozen=True, slots=True)
class TeamDependents:
    """The dependents one team owns ("" ref: owned by no team the catalog knows)."""

    team: DependencyNode | None
    services: tuple[Dependent, ...]


@dataclass(slots=True)
class Graph:
    nodes: dict[str, DependencyNode] = field(default_factory=dict)
    dependents_of: dict[str, list[str]] = field(default_factory=dict)  # target -> dependents
    dependencies_of: dict[str, list[str]] = field(default_factory=dict)  # entity -> targets

    @classmethod
    def build(
        cls,
        entities: Iterable[tuple[str, str, str, str, Sequence[str], Sequence[str]]],
        edges: Iterable[tuple[str, str]],
    ) -> Graph:
        """`entities`: (ref, kind, name, title, owners, slack channels); `edges`: (entity
        ref, the ref it depends on)."""
        graph = cls()
        for ref, kind, name, title, owners, channels in entities:
            if kind in PEOPLE_KINDS:
                continue
            channel = channels[0] if kind == "group" and channels else ""
            graph.nodes[ref] = DependencyNode(ref, title or name, tuple(owners), channel)
        for source, target in edges:
            if source != target:
                graph.dependents_of.setdefault(target, []).append(source)
                graph.dependencies_of.setdefault(source, []).append(target)
        return graph

    def name(self, ref: str) -> str:
        node = self.nodes.get(ref)
        return node.name if node else ref.partition("/")[2] or ref

    def _node(self, ref: str) -> DependencyNode:
        """An entity's node; a dependent the catalog knows only as a ref gets a bare one."""
        return self.nodes.get(ref) or DependencyNode(ref, self.name(ref), ())

    def teams_of(self, ref: str) -> list[DependencyNode]:
        node = self.nodes.get(ref)
        owners = node.owners if node else ()
        return [self.nodes[o] for o in owners if o.startswith("group:") and o in self.nodes]

    def dependents(self, refs: Sequence[str], depth: int) -> list[Dependent]:
        """What depends on `refs`, nearest first, each once (the affected ones left out),
        breadth first to `depth` levels."""
        affected = set(refs)
        seen = set(refs)
        found: list[Dependent] = []
        level = [(r, r) for r in dict.fromkeys(refs)]
        for at in range(1, depth + 1):
            following: list[tuple[str, str]] = []
            for ref, via in level:
                for dependent in self.dependents_of.get(ref, ()):
                    if dependent in seen:
                        continue
                    seen.add(dependent)
                    node = self.nodes.get(dependent) or DependencyNode(
                        dependent, self.name(dependent), ()
                    )
                    found.append(Dependent(node, at, via))
                    following.append((dependent, via))
            level = following
            if not level:
                break
        return [d for d in found if d.node.ref not in affected]

    def by_team(self, dependents: Sequence[Dependent]) -> list[TeamDependents]:
        """The dependents grouped by owning team (a service with two teams is under both),
        the teams with most dependents first, then by name; the team-less ones last."""
        teams: dict[str, list[Dependent]] = {}
        for dependent in dependents:
            owning: list[DependencyNode | None] = [*self.teams_of(dependent.node.ref)]
            for team in owning or [None]:
                teams.setdefault(team.ref if team else "", []).append(dependent)
        grouped = [
            TeamDependents(self.nodes.get(ref) if ref else None, tuple(found))
            for ref, found in teams.items()
        ]
        return sorted(
            grouped,
            key=lambda g: (g.team is None, -len(g.services), g.team.name if g.team else ""),
        )
