"""Backstage `catalog-info.yaml` documents (`apiVersion: backstage.io/...`) -> entities.

Refs follow Backstage: a reference without a kind gets the field's default kind, one without
a namespace gets the namespace of the entity that makes it.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from switchboard.bot.catalog.common import (
    add_link,
    add_unique,
    guess_link_type,
    link_type,
    slack_channel,
)
from switchboard.bot.catalog.custom import custom_values
from switchboard.bot.catalog.model import (
    CONSUMES_API,
    DEPENDS_ON,
    KINDS,
    MEMBER_OF,
    PARENT,
    PROVIDES_API,
    Entity,
    Link,
    OnCall,
    Relation,
    parse_ref,
)
from switchboard.bot.catalog.yamlsource import Node

# spec field -> (relation, default kind of its refs): lists of refs on the declaring entity.
_RELATION_LISTS = {
    "dependsOn": (DEPENDS_ON, "component"),
    "providesApis": (PROVIDES_API, "api"),
    "consumesApis": (CONSUMES_API, "api"),
    "memberOf": (MEMBER_OF, "group"),
}
# spec field -> (relation, default kind): a single ref on the declaring entity.
_RELATION_SINGLES = {
    "parent": (PARENT, "group"),
    "subcomponentOf": (PARENT, "component"),
    "subdomainOf": (PARENT, "domain"),
}
# spec field -> (relation, default kind): refs that hold the relation back to the declarer.
_RELATION_REVERSED = {
    "children": (PARENT, "group"),
    "members": (MEMBER_OF, "user"),
    "dependencyOf": (DEPENDS_ON, "component"),
}


def read(doc: Node) -> None:
    """Import one Backstage document: an entity, or the targets of a Location."""
    kind_text = doc.child("kind").text(required=True)
    kind = kind_text.lower()
    if kind == "location":
        _follow_location(doc)
        return
    if kind not in KINDS:
        if kind_text:
            doc.src.warning(doc.line, f"kind {kind_text} is not imported, skipped")
        return
    metadata = doc.child("metadata").mapping(required=True)
    if not metadata.present:
        return
    name = metadata.child("name").entity_name()
    if not name:
        return
    entity = Entity(kind=kind, name=name, namespace=metadata.child("namespace").text() or "default")
    _read_metadata(metadata, entity)
    _read_spec(doc.child("spec").mapping(), entity)
    _read_annotations(metadata.child("annotations").mapping(), entity)
    doc.src.add(entity, doc.line)


def _read_metadata(metadata: Node, entity: Entity) -> None:
    entity.title = metadata.child("title").text()
    entity.description = metadata.child("description").text()
    entity.tags = metadata.child("tags").texts()
    for item in metadata.child("links").items():
        link = item.mapping()
        url = link.need("url")
        title = link.child("title").text()
        explicit = link.child("type").text()
        kind = (
            link_type(explicit)
            if explicit
            else guess_link_type(url, title, link.child("icon").text())
        )
        add_link(entity, Link(kind, url, title))


def _read_spec(spec: Node, entity: Entity) -> None:
    ns = entity.namespace
    entity.type = spec.child("type").text()
    entity.lifecycle = spec.child("lifecycle").text()
    entity.tier = spec.child("tier").tier()
    owner = spec.child("owner")
    if ref := owner.text():
        spec.src.add_owner(entity, parse_ref(ref, "group", ns), owner.line)
    if system := spec.child("system").text():
        entity.system = parse_ref(system, "system", ns)
    if domain := spec.child("domain").text():
        entity.domain = parse_ref(domain, "domain", ns)
    for key, (relation, default_kind) in _RELATION_LISTS.items():
        for ref in spec.child(key).texts():
            add_unique(entity.relations, Relation(relation, parse_ref(ref, default_kind, ns)))
    for key, (relation, default_kind) in _RELATION_SINGLES.items():
        if ref := spec.child(key).text():
            add_unique(entity.relations, Relation(relation, parse_ref(ref, default_kind, ns)))
    for key, (relation, default_kind) in _RELATION_REVERSED.items():
        for ref in spec.child(key).texts():
            holder = parse_ref(ref, default_kind, ns)
            spec.src.add_reverse((holder,), Relation(relation, entity.ref))
    profile = spec.child("profile").mapping()
    entity.title = entity.title or profile.child("displayName").text()
    entity.email = profile.child("email").text()


# The annotations read into fields; every other one is the entity's custom metadata.
_MAPPED_ANNOTATIONS = frozenset(
    {
        "pagerduty.com/service-id",
        "pagerduty.com/integration-key",
        "opsgenie.com/team",
        "github.com/project-slug",
        "backstage.io/source-location",
        "backstage.io/techdocs-ref",
        "slack.com/bot-notify",
        "slack.com/user-id",
        "sonarqube.org/project-key",
        # where Backstage itself read the entity from: not the entity's own data
        "backstage.io/managed-by-location",
        "backstage.io/managed-by-origin-location",
        "backstage.io/view-url",
        "backstage.io/edit-url",
    }
)


def _read_annotations(annotations: Node, entity: Entity) -> None:
    def value(key: str) -> str:
        return annotations.child(key).text()

    service_id = value("pagerduty.com/service-id")
    integration_key = value("pagerduty.com/integration-key")
    if service_id:
        add_unique(entity.oncall, OnCall("pagerduty", "service", service_id, integration_key))
    elif integration_key:
        annotations.src.warning(
            annotations.child("pagerduty.com/integration-key").line,
            "pagerduty.com/integration-key without pagerduty.com/service-id: "
            "add the service id so the on-call can be looked up",
        )
    if team := value("opsgenie.com/team"):
        add_unique(entity.oncall, OnCall("opsgenie", "team", team))
    if slug := value("github.com/project-slug"):
        add_link(entity, Link("repo", f"https://github.com/{slug}", "GitHub"))
    source = _url_location(value("backstage.io/source-location"))
    if source and not any(link.type == "repo" for link in entity.links):
        add_link(entity, Link("repo", source, "Source"))
    if docs := _url_location(value("backstage.io/techdocs-ref")):
        add_link(entity, Link("docs", docs, "TechDocs"))
    if channel := slack_channel(value("slack.com/bot-notify")):
        add_unique(entity.slack_channels, channel)
    entity.slack_user_id = value("slack.com/user-id")
    entity.sonarqube_project = value("sonarqube.org/project-key")
    entity.custom = custom_values(annotations, skip=_MAPPED_ANNOTATIONS)


def _url_location(value: str) -> str:
    """The URL of a `url:<url>` location reference; `dir:`/`file:` ones have none."""
    kind, _, target = value.partition(":")
    return target.strip() if kind == "url" else ""


def _follow_location(doc: Node) -> None:
    """Queue the files a Location points at; they are relative to the Location's file, and
    must lie in the folder the import began from (symbolic links resolved): anything else is
    never read, and only named in a warning."""
    spec = doc.child("spec").mapping()
    targets = [spec.child("target"), *spec.child("targets").items()]
    base, root = doc.src.path.parent, doc.src.folder
    for node in targets:
        target = node.text()
        if not target:
            continue
        if "://" in target or os.path.isabs(target):
            doc.src.warning(
                node.line,
                f"Location target {target} is not a path relative to this file, not followed",
            )
            continue
        pattern = os.path.normpath(os.path.join(base, target))
        if not Path(pattern).is_relative_to(root):  # before globbing: `../../**` walks a disk
            doc.src.warning(node.line, f"Location target {target} {_OUTSIDE}")
            continue
        matches = _matches(pattern)
        files = [match for match in matches if match.is_relative_to(root)]
        if matches and not files:  # a symbolic link out of the folder
            doc.src.warning(node.line, f"Location target {target} {_OUTSIDE}")
        elif not files:
            doc.src.warning(node.line, f"Location target {target} not found")
        doc.src.targets.extend(files)


_OUTSIDE = "is outside the imported folder, not read"


def _matches(pattern: str) -> list[Path]:
    """The files a target names, resolved. Glob: Backstage file locations may be patterns
    such as ./services/*/catalog-info.yaml."""
    try:
        found = sorted(glob.glob(pattern, recursive=True))
    except ValueError:  # a NUL character, which YAML's "\0" escape allows
        return []
    resolved = []
    for match in found:
        try:
            path = Path(match).resolve()
        except (OSError, RuntimeError):  # a symlink loop
            continue
        if path.is_file():
            resolved.append(path)
    return resolved
