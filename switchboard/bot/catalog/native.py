"""Switchboard's own catalog format (`switchboard: 1`) -> entities.

One flat file (or several) listing `people`, `teams` and `services` with exactly the fields
the bot uses; see docs/catalog-formats.md. Being our own format, unknown fields are reported
(they are usually typos) rather than silently ignored.
"""

from __future__ import annotations

from switchboard.bot.catalog.common import (
    SLACK_USER_ID,
    add_link,
    add_unique,
    link_type,
    slack_channel,
)
from switchboard.bot.catalog.custom import custom_values
from switchboard.bot.catalog.model import (
    DEPENDS_ON,
    KINDS,
    MEMBER_OF,
    PARENT,
    Entity,
    Link,
    OnCall,
    Relation,
    parse_ref,
)
from switchboard.bot.catalog.yamlsource import Node, describe, excerpt

FORMAT_VERSION = 1

# oncall field -> (provider, target_type); `integration_key` goes with pagerduty_service.
_ONCALL_FIELDS = {
    "pagerduty_service": ("pagerduty", "service"),
    "pagerduty_schedule": ("pagerduty", "schedule"),
    "pagerduty_escalation_policy": ("pagerduty", "escalation_policy"),
    "opsgenie_team": ("opsgenie", "team"),
    "opsgenie_schedule": ("opsgenie", "schedule"),
    "slack_usergroup": ("slack", "usergroup"),
}
# single-URL service fields -> link type
_LINK_FIELDS = {"runbook": "runbook", "repo": "repo", "docs": "docs"}
# teams and people are their own sections; a service entry may be any other kind
_SERVICE_KINDS = [kind for kind in KINDS if kind not in ("group", "user")]

_TOP_FIELDS = {"switchboard", "people", "teams", "services"}
_PERSON_FIELDS = {"id", "name", "email", "slack_id"}
_SHARED_FIELDS = {
    "id",
    "name",
    "description",
    "slack_channel",
    "oncall",
    "links",
    "tags",
    "aliases",
}
_TEAM_FIELDS = _SHARED_FIELDS | {"email", "slack_usergroup", "parent", "members"}
_SERVICE_FIELDS = _SHARED_FIELDS | {
    "kind",
    "type",
    "owner",
    "tier",
    "lifecycle",
    "system",
    "dashboards",
    "depends_on",
    "sonarqube_project",
    "custom",
    *_LINK_FIELDS,
}


def read(doc: Node) -> None:
    """Import one native document: its people, then teams (whose members may name those
    people), then services."""
    version = doc.child("switchboard")
    if isinstance(version.raw, bool) or version.raw not in (FORMAT_VERSION, str(FORMAT_VERSION)):
        doc.src.error(
            version.line,
            f"switchboard: format version {describe(version.raw)} is not "
            f"supported (expected {FORMAT_VERSION})",
        )
        return
    doc.warn_unknown(_TOP_FIELDS)
    people: dict[str, Entity] = {}  # by id, e-mail and Slack id, lower-cased
    for item in doc.child("people").items_once():
        _read_person(item.mapping(), people)
    for item in doc.child("teams").items_once():
        _read_team(item.mapping(), people)
    for item in doc.child("services").items_once():
        _read_service(item.mapping())


def _id(node: Node) -> str:
    """The required id of an entry (quiet for an entry that is not a mapping: reported)."""
    return node.child("id").entity_name() if node.present else ""


def _read_person(node: Node, people: dict[str, Entity]) -> None:
    node.warn_unknown(_PERSON_FIELDS)
    name = _id(node)
    if not name:
        return
    person = Entity(
        kind="user",
        name=name,
        title=node.child("name").text(),
        email=node.child("email").text(),
        slack_user_id=node.child("slack_id").text(),
    )
    node.src.add(person, node.line)  # its id may differ from `name`: members use either
    for key in (name, person.name, person.email, person.slack_user_id):
        if key:
            people.setdefault(key.lower(), person)


def _read_shared(node: Node, entity: Entity) -> None:
    """The fields teams and services have in common."""
    _read_oncall(node.child("oncall").mapping(), entity)
    if channel := slack_channel(node.child("slack_channel").text()):
        entity.slack_channels.append(channel)
    for item in node.child("links").items():
        link = item.mapping()
        add_link(
            entity,
            Link(
                link_type(link.child("type").text()), link.need("url"), link.child("title").text()
            ),
        )
    entity.tags = node.child("tags").texts()
    entity.aliases = node.child("aliases").texts()


def _read_oncall(oncall: Node, entity: Entity) -> None:
    oncall.warn_unknown({*_ONCALL_FIELDS, "integration_key"})
    key = oncall.child("integration_key")
    if key.present and not oncall.child("pagerduty_service").present:
        oncall.src.error(
            key.line, f"{key.path}: needs pagerduty_service, the service it belongs to"
        )
    for field, (provider, target_type) in _ONCALL_FIELDS.items():
        if target := oncall.child(field).text():
            secret = key.text() if field == "pagerduty_service" else ""
            add_unique(entity.oncall, OnCall(provider, target_type, target, secret))


def _read_team(node: Node, people: dict[str, Entity]) -> None:
    node.warn_unknown(_TEAM_FIELDS)
    name = _id(node)
    if not name:
        return
    team = Entity(
        kind="group",
        name=name,
        type="team",
        title=node.child("name").text(),
        description=node.child("description").text(),
        email=node.child("email").text(),
        slack_usergroup=node.child("slack_usergroup").text(),
    )
    _read_shared(node, team)
    if parent := node.child("parent").text():
        team.relations.append(Relation(PARENT, parse_ref(parent, "group")))
    node.src.add(team, node.line)
    for member in node.child("members").items():
        person = _member(member, people)
        if person:
            add_unique(person.relations, Relation(MEMBER_OF, team.ref))


def _member(node: Node, people: dict[str, Entity]) -> Entity | None:
    """The person a member entry names: one from `people:`, else a new person known only by
    Slack id or e-mail address."""
    value = node.text()
    if not value:
        return None
    if known := people.get(value.lower()):
        return known
    if SLACK_USER_ID.fullmatch(value):
        person = Entity(kind="user", name=value.lower(), slack_user_id=value)
    elif "@" in value:
        person = Entity(kind="user", name=value.lower(), email=value)
    else:
        node.src.error(
            node.line,
            f"{node.path}: {excerpt(value)} is not a person in people:, a Slack "
            "user id (U…) or an e-mail address",
        )
        return None
    node.src.add(person, node.line, implicit=True)
    people[value.lower()] = person
    return person


def _read_service(node: Node) -> None:
    node.warn_unknown(_SERVICE_FIELDS)
    name = _id(node)
    kind_node = node.child("kind")
    kind = kind_node.text().lower() or "component"
    if not name:
        return
    if kind not in _SERVICE_KINDS:
        node.src.warning(kind_node.line, f"{kind_node.path}: kind {kind} is not imported, skipped")
        return
    service = Entity(
        kind=kind,
        name=name,
        type=node.child("type").text() or ("service" if kind == "component" else ""),
        title=node.child("name").text(),
        description=node.child("description").text(),
        tier=node.child("tier").tier(),
        lifecycle=node.child("lifecycle").text(),
    )
    _read_shared(node, service)
    owner = node.child("owner")
    if team := owner.text():
        node.src.add_owner(service, parse_ref(team, "group"), owner.line)
    if system := node.child("system").text():
        service.system = parse_ref(system, "system")
    for field, kind_of_link in _LINK_FIELDS.items():
        add_link(service, Link(kind_of_link, node.child(field).text()))
    for url in node.child("dashboards").texts():
        add_link(service, Link("dashboard", url))
    for ref in node.child("depends_on").texts():
        add_unique(service.relations, Relation(DEPENDS_ON, parse_ref(ref, "component")))
    service.sonarqube_project = node.child("sonarqube_project").text()
    service.custom = custom_values(node.child("custom"))
    node.src.add(service, node.line)
