"""OpsLevel `opslevel.yml` documents (`version: 1` with a `service:` mapping) -> entities.

OpsLevel names services by display name ("Support Console") and refers to them by alias
("support_console"); both are slugified ("support-console") into the entity name, so a
dependency given by alias finds the service given by name.
"""

from __future__ import annotations

from switchboard.bot.catalog.common import (
    add_link,
    add_unique,
    link_type,
    pagerduty_service_in_url,
    repo_url,
    slugify,
)
from switchboard.bot.catalog.custom import custom_values
from switchboard.bot.catalog.model import (
    DEPENDS_ON,
    Entity,
    Link,
    OnCall,
    Relation,
    make_ref,
    parse_ref,
    safe_name,
)
from switchboard.bot.catalog.yamlsource import Node, excerpt

# OpsLevel alert source types that are on-call targets (both are "services" in OpsLevel).
_ALERT_SOURCES = {"pagerduty", "opsgenie"}


def read(doc: Node) -> None:
    """Import the service of one opslevel.yml."""
    service = doc.child("service")
    name_node = service.child("name")
    title = name_node.text(required=True)
    name = _name(title)
    if not name:
        if title:
            doc.src.error(
                name_node.line, f"{name_node.path}: {excerpt(title)} has nothing to make an id of"
            )
        return
    entity = Entity(
        kind="component",
        name=name,
        type="service",
        title=title,
        description=service.child("description").text(),
        lifecycle=service.child("lifecycle").text(),
        tier=service.child("tier").tier(),
        aliases=service.child("aliases").texts(),
    )
    owner = service.child("owner")
    if team := owner.text():
        doc.src.add_owner(entity, parse_ref(team, "group"), owner.line)
    if system := service.child("system").text():
        entity.system = parse_ref(system, "system")
    _read_tags(service, entity)
    _read_tools(service.child("tools"), entity)
    entity.custom = custom_values(service.child("properties"))
    for item in service.child("repositories").items():
        repo = item.mapping()
        repo_name = repo.need("name")
        if url := repo_url(repo.child("provider").text(), repo_name):
            add_link(entity, Link("repo", url, repo_name))
        elif repo_name:
            repo.src.warning(
                repo.line, f"{repo.path}: no repository URL can be made from this, skipped"
            )
    for item in service.child("dependencies").items():
        # either a bare alias or {alias: x, notes: ...}
        alias = item.mapping().need("alias") if isinstance(item.raw, dict) else item.text()
        if dependency := _name(alias):
            add_unique(entity.relations, Relation(DEPENDS_ON, make_ref("component", dependency)))
    for item in service.child("alert_sources").items():
        source = item.mapping()
        source_type = source.need("type").lower()
        external_id = source.need("external_id")
        if source_type in _ALERT_SOURCES and external_id:
            add_unique(entity.oncall, OnCall(source_type, "service", external_id))
    doc.src.add(entity, doc.line)


def _name(text: str) -> str:
    """The entity name of an OpsLevel name or alias: slugified, or, when that leaves nothing
    (a name in another script: "支付服务"), the name itself, made an id by `SourceFile.add`."""
    return slugify(text) or safe_name(text)


def _read_tags(service: Node, entity: Entity) -> None:
    """Tags are "k:v" strings, {key: k, value: v} or {k: v} maps; product, language and
    framework are tags too."""
    for key in ("product", "language", "framework"):
        if value := service.child(key).text():
            add_unique(entity.tags, f"{key}:{value}")
    for item in service.child("tags").items():
        if not isinstance(item.raw, dict):
            if tag := item.text():
                add_unique(entity.tags, tag)
            continue
        tag_map = item.mapping()
        if "key" in tag_map.field_names():
            pairs = [(tag_map.need("key"), tag_map.child("value").text())]
        else:  # the short form, {k: v}
            pairs = [(key, tag_map.child(key).text()) for key in tag_map.field_names()]
        for key, value in pairs:
            if key:
                add_unique(entity.tags, f"{key}:{value}" if value else key)


def _read_tools(tools: Node, entity: Entity) -> None:
    for item in tools.items():
        tool = item.mapping()
        url = tool.need("url")
        kind = link_type(tool.child("category").text())
        title = tool.child("name").text()
        if environment := tool.child("environment").text():
            title = f"{title} ({environment})"
        add_link(entity, Link(kind, url, title))
        if kind == "incidents" and (service_id := pagerduty_service_in_url(url)):
            add_unique(entity.oncall, OnCall("pagerduty", "service", service_id))
