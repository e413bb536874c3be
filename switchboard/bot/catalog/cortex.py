"""Cortex entity descriptors (`cortex.yaml`: OpenAPI with `info.x-cortex-*`) -> entities."""

from __future__ import annotations

from switchboard.bot.catalog.common import (
    add_link,
    add_unique,
    link_type,
    repo_url,
    slack_channel,
    tier_number,
)
from switchboard.bot.catalog.custom import custom_values
from switchboard.bot.catalog.model import (
    DEPENDS_ON,
    MEMBER_OF,
    PARENT,
    Entity,
    Link,
    OnCall,
    Relation,
    make_ref,
)
from switchboard.bot.catalog.yamlsource import Node, excerpt

# x-cortex-type -> (kind, type). Any other type is a custom Cortex entity type: a resource.
_KINDS = {"service": ("component", "service"), "team": ("group", "team"), "domain": ("domain", "")}
# Cortex tags are unique across entity types, so hierarchy refs carry no kind: teams nest in
# teams, anything else sits in a domain, and a domain's children are domains or services.
_PARENT_KIND = {"group": "group"}
_CHILD_KINDS = {"group": ("group",), "domain": ("domain", "component")}
# provider -> {Cortex target type -> our OnCall target_type}
_ONCALL_TYPES = {
    "pagerduty": {
        "SERVICE": "service",
        "SCHEDULE": "schedule",
        "ESCALATION_POLICY": "escalation_policy",
    },
    "opsgenie": {"SCHEDULE": "schedule", "TEAM": "team"},
}


def read(doc: Node) -> None:
    """Import one Cortex descriptor: an entity, plus the people of a team's member list."""
    info = doc.child("info")
    tag = info.child("x-cortex-tag").entity_name()
    if not tag:
        return
    cortex_type = info.child("x-cortex-type").text().lower() or "service"
    kind, entity_type = _KINDS.get(cortex_type, ("resource", cortex_type))
    entity = Entity(
        kind=kind,
        name=tag,
        type=entity_type,
        title=info.child("title").text(),
        description=info.child("description").text(),
    )
    _read_owners(info.child("x-cortex-owners"), entity)
    _read_oncall(info.child("x-cortex-oncall").mapping(), entity)
    _read_git(info.child("x-cortex-git").mapping(), entity)
    for item in info.child("x-cortex-slack").mapping().child("channels").items():
        if channel := slack_channel(item.mapping().need("name")):
            add_unique(entity.slack_channels, channel)
    for item in info.child("x-cortex-link").items():
        link = item.mapping()
        add_link(
            entity,
            Link(link_type(link.child("type").text()), link.need("url"), link.child("name").text()),
        )
    for group in (
        info.child("x-cortex-groups").texts() + info.child("x-cortex-service-groups").texts()
    ):
        add_unique(entity.tags, group)
        if group.lower().startswith("tier") and (tier := tier_number(group)) is not None:
            entity.tier = tier
    for dependency in _tags(info.child("x-cortex-dependency")):
        add_unique(entity.relations, Relation(DEPENDS_ON, make_ref("component", dependency)))
    _read_hierarchy(info, entity)
    sonarqube = info.child("x-cortex-static-analysis").mapping().child("sonarqube").mapping()
    entity.sonarqube_project = sonarqube.child("project").text()
    entity.custom = custom_values(info.child("x-cortex-custom-metadata"))
    team = info.child("x-cortex-team").mapping()
    for item in team.child("groups").items():
        if name := item.mapping().need("name"):
            add_unique(entity.tags, name)
    doc.src.add(entity, doc.line)
    _read_members(team.child("members"), entity)


def _tags(node: Node) -> list[str]:
    """The tags of a `[{tag: x}, ...]` list, Cortex's way of referring to other entities."""
    tags = []
    for item in node.items():
        if tag := item.mapping().need("tag"):
            tags.append(tag)
    return tags


def _read_owners(owners: Node, entity: Entity) -> None:
    for item in owners.items():
        owner = item.mapping()
        owner_type = owner.need("type").lower()
        if owner_type == "group":
            if name := owner.need("name"):
                owner.src.add_owner(entity, make_ref("group", name), owner.line)
        elif owner_type == "email":
            if email := owner.need("email"):
                owner.src.add_owner(entity, make_ref("user", email, "email"), owner.line)
        elif owner_type == "slack":
            if channel := slack_channel(owner.need("channel")):
                add_unique(entity.slack_channels, channel)
        elif owner_type:
            owner.src.warning(
                owner.line, f"{owner.path}: owner type {owner_type} is not supported, skipped"
            )


def _read_oncall(oncall: Node, entity: Entity) -> None:
    for provider in oncall.field_names():
        target = oncall.child(provider).mapping()
        types = _ONCALL_TYPES.get(provider.lower())
        if types is None:
            target.src.warning(
                target.line, f"{target.path}: {provider} on-call is not supported, skipped"
            )
            continue
        target_id = target.need("id")
        type_node = target.child("type")
        cortex_type = type_node.text(required=target.present)
        target_type = types.get(cortex_type.upper())
        if cortex_type and target_type is None:
            target.src.error(
                type_node.line,
                f"{type_node.path}: expected one of {', '.join(types)}, got {excerpt(cortex_type)}",
            )
        elif target_id and target_type:
            add_unique(entity.oncall, OnCall(provider.lower(), target_type, target_id))


def _read_git(git: Node, entity: Entity) -> None:
    for provider in git.field_names():
        repo = git.child(provider).mapping()
        name = repo.need("repository")
        if provider.lower() == "azure":
            # Azure DevOps URLs need the organization, which Cortex keeps in its integration
            # settings: it is only known when the project is written "organization/project".
            project = repo.need("project")
            url = f"https://dev.azure.com/{project}/_git/{name}" if "/" in project and name else ""
        else:
            url = repo_url(provider, name)
        if url:
            add_link(entity, Link("repo", url, name))
        elif name:
            repo.src.warning(
                repo.line, f"{repo.path}: no repository URL can be made from this, skipped"
            )


def _read_hierarchy(info: Node, entity: Entity) -> None:
    parent_kind = _PARENT_KIND.get(entity.kind, "domain")
    for parent in _tags(info.child("x-cortex-parents")):
        add_unique(entity.relations, Relation(PARENT, make_ref(parent_kind, parent)))
    child_kinds = _CHILD_KINDS.get(entity.kind, ("component",))
    for child in _tags(info.child("x-cortex-children")):
        holders = tuple(make_ref(kind, child) for kind in child_kinds)
        info.src.add_reverse(holders, Relation(PARENT, entity.ref))


def _read_members(members: Node, team: Entity) -> None:
    """Team members become people (merged with the same person declared elsewhere)."""
    for item in members.items():
        member = item.mapping()
        email = member.need("email")
        if email:
            person = Entity(
                kind="user",
                name=email.lower(),
                title=member.child("name").text(),
                email=email,
                relations=[Relation(MEMBER_OF, team.ref)],
            )
            member.src.add(person, member.line, implicit=True)
