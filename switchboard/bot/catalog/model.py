"""The neutral catalog model every importer produces and every reader consumes.

Backstage, Cortex, OpsLevel and our own native format all map onto these few types, so the
rest of the bot never needs to know where an entity came from (beyond `source_file`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

# Kinds we know. Backstage's are the reference; "service" is not a kind but a component type.
KINDS = ("component", "api", "resource", "system", "domain", "group", "user")

# Relation types between entities; targets are entity refs.
DEPENDS_ON = "dependsOn"
PROVIDES_API = "providesApi"
CONSUMES_API = "consumesApi"
MEMBER_OF = "memberOf"  # user -> group
PARENT = "childOf"  # group -> parent group, component -> parent entity (Cortex parents)

# Link types with a meaning in /owner; anything else is kept as "other" or its own word.
LINK_TYPES = ("runbook", "repo", "docs", "dashboard", "incidents", "logs", "chat", "other")


# Names and namespaces longer than this get a shortened id: Backstage's own limit, which also
# keeps every ref (`component:<63>/<63>`) within Slack's 150 characters for an option value.
MAX_NAME = 63
# What a name in a ref cannot hold: the ref's own separators, spaces, control characters.
_UNSAFE_NAME = re.compile(r"[:/\s\x00-\x1f\x7f]+")


def safe_name(name: str) -> str:
    """The id of a name that cannot be used as it is (docs/catalog-formats.md, "Ids").

    A name with no ':', '/', space or control character, of at most 63 characters, is its own
    id. Otherwise: a leading '@' (npm scopes) is dropped and each run of those characters
    becomes one '-', trimmed at both ends (`@acme/payments-api` -> `acme-payments-api`); an id
    still over 63 characters keeps its first 54 and ends with '-' and 8 hex digits of the
    SHA-256 of the lower-cased name. The same name always gives the same id."""
    # Every ref is made through here: plain string tests, several times faster than the
    # regular expression (a space is the only printable whitespace).
    if (
        len(name) <= MAX_NAME
        and name.isprintable()
        and not (" " in name or ":" in name or "/" in name)
    ):
        return name
    safe = _UNSAFE_NAME.sub("-", name.removeprefix("@")).strip("-")
    if len(safe) > MAX_NAME:
        digest = hashlib.sha256(name.lower().encode("utf-8", "surrogatepass")).hexdigest()
        safe = f"{safe[: MAX_NAME - 9].rstrip('-')}-{digest[:8]}"
    return safe


def make_ref(kind: str, name: str, namespace: str = "default") -> str:
    """The canonical key of an entity: `kind:namespace/name`, lower-cased (Backstage's rule),
    the name and namespace as their ids (`safe_name`), so that a reference finds the entity
    whatever characters the name it gives holds."""
    return f"{kind}:{safe_name(namespace)}/{safe_name(name)}".lower()


def other_names(name: str) -> list[str]:
    """What people may call an entity whose name is not its id: the name as written, and an
    npm-style tag without its scope (`@acme/payments-api`, `payments-api`)."""
    if safe_name(name) == name:
        return []
    names = [name]
    scope, slash, bare = name.partition("/")
    if scope.startswith("@") and slash and bare.strip():
        names.append(bare.strip())
    return names


def original_name(entity: Entity) -> str:
    """The name an entity was given when its id had to be derived from it, else ""."""
    return next((a for a in entity.aliases if a != entity.name and safe_name(a) == entity.name), "")


def parse_ref(ref: str, default_kind: str, default_namespace: str = "default") -> str:
    """Turn a Backstage-style reference (`name`, `ns/name`, `kind:name`, `kind:ns/name`)
    into a canonical ref, filling in the defaults the way Backstage does."""
    kind, sep, rest = ref.partition(":")
    if not sep:
        kind, rest = default_kind, ref
    namespace, sep, name = rest.partition("/")
    if not sep:
        namespace, name = default_namespace, rest
    return make_ref(kind.strip(), name.strip(), namespace.strip() or default_namespace)


@dataclass(frozen=True, slots=True)
class Link:
    type: str  # one of LINK_TYPES, or a source's own category word
    url: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class OnCall:
    """How to reach whoever is on call. `integration_key` is a secret: never log it."""

    provider: str  # "pagerduty" | "opsgenie" | "slack"
    target_type: str  # "service" | "schedule" | "escalation_policy" | "team" | "usergroup" | "user"
    target_id: str
    integration_key: str = ""

    def __repr__(self) -> str:  # keep the integration key out of logs and tracebacks
        return f"OnCall({self.provider} {self.target_type} {self.target_id})"


@dataclass(frozen=True, slots=True)
class Relation:
    type: str  # DEPENDS_ON, PROVIDES_API, CONSUMES_API, MEMBER_OF, PARENT
    target: str  # entity ref


@dataclass(slots=True)
class Entity:
    """One catalog entity: a service (component), API, resource, system, domain, team
    (group) or person (user)."""

    kind: str
    name: str
    namespace: str = "default"
    type: str = ""  # service, website, library, team, database, ...
    title: str = ""
    description: str = ""
    # Refs of the owners (`group:default/payments`, `user:default/alice`). An owner given only
    # as an e-mail address is `user:email/<address>` and is matched to people by e-mail.
    owners: list[str] = field(default_factory=list)
    tier: int | None = None  # 1 is the most critical
    lifecycle: str = ""
    system: str = ""  # ref
    domain: str = ""  # ref
    tags: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    oncall: list[OnCall] = field(default_factory=list)
    slack_channels: list[str] = field(default_factory=list)  # "#name" or a channel id "C..."
    slack_usergroup: str = ""  # a user group id "S..." or handle "@team"
    slack_user_id: str = ""  # people: "U..."
    email: str = ""  # people
    sonarqube_project: str = ""  # its project key in SonarQube
    # What its file says beyond these fields (custom metadata), as JSON values: see custom.py
    custom: dict[str, Any] = field(default_factory=dict)
    source_file: str = ""
    source_line: int = 0

    @property
    def ref(self) -> str:
        return make_ref(self.kind, self.name, self.namespace)

    @property
    def display_name(self) -> str:
        return self.title or self.name


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """An error or warning about an input file, printed as `file:line: message`."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(slots=True)
class ParseResult:
    """What reading a set of catalog paths produced."""

    entities: list[Entity] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # every file that was read, resolved

    @property
    def ok(self) -> bool:
        return not self.errors
