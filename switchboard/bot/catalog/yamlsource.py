"""Reading catalog YAML with line numbers, and reading its fields without ever raising.

Every importer reads its documents through `Node`, so a wrong shape anywhere becomes a
`Problem` that points at the offending line instead of an exception, and the importers
themselves only ever see the types they asked for.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from switchboard.bot.catalog.common import tier_number
from switchboard.bot.catalog.model import Entity, Problem, Relation, other_names, safe_name
from switchboard.bot.catalog.yamlload import (
    ExpansionError,
    StreamedList,
    YList,
    YMap,
    read_exactly,
    read_quickly,
)

__all__ = [
    "Node",
    "SourceFile",
    "YList",
    "YMap",
    "bounded",
    "describe",
    "excerpt",
    "load_documents",
    "read_text",
]

# The longest text a field may hold (after aliases are expanded), in characters: a tag, a
# title, a URL, an owner... Past it, an error at the field's line. See docs/catalog-formats.md.
MAX_TEXT_CHARS = 2_000
FIELD_MAX_CHARS = {"description": 5_000}
# What some entity fields hold at most, whichever file field they came from: the sizes of
# their columns (storage/tables.py), which PostgreSQL enforces.
ENTITY_MAX_CHARS = {
    "title": 512,
    "type": 64,
    "lifecycle": 64,
    "email": 320,
    "slack_user_id": 64,
    "slack_usergroup": 128,
    "sonarqube_project": 512,
}
EXCERPT_CHARS = 40  # the most of a value any message quotes
MESSAGE_CHARS = 300  # the most of any message: values in it come from files we were given


@dataclass(frozen=True, slots=True)
class ReverseRelation:
    """A relation declared from the other side (a group listing its children): it is added to
    the first of `holders` that exists once every file has been read."""

    holders: tuple[str, ...]
    relation: Relation


@dataclass(frozen=True, slots=True)
class OwnerCheck:
    """An owner to look up once every file has been read, and the line that named it."""

    entity: Entity
    owner: str
    line: int


@dataclass(slots=True)
class SourceFile:
    """Everything reading one file produced, before the loader puts all files together."""

    path: Path  # resolved
    # The folder the import began from (resolved): what this file's Locations may point into.
    root: Path | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    # People known only from a team's member list: merged with the same person found elsewhere
    # instead of being reported as duplicates.
    implicit: list[Entity] = field(default_factory=list)
    reverse: list[ReverseRelation] = field(default_factory=list)
    owner_checks: list[OwnerCheck] = field(default_factory=list)
    targets: list[Path] = field(default_factory=list)  # files a Backstage Location points at
    _path_text: str | None = None

    @property
    def path_text(self) -> str:
        if self._path_text is None:
            self._path_text = str(self.path)
        return self._path_text

    @property
    def folder(self) -> Path:
        return self.root or self.path.parent

    def error(self, line: int, message: str) -> None:
        self.errors.append(Problem(str(self.path), line, bounded(message)))

    def warning(self, line: int, message: str) -> None:
        self.warnings.append(Problem(str(self.path), line, bounded(message)))

    def add(self, entity: Entity, line: int, *, implicit: bool = False) -> None:
        """Keep an entity, under its id (`safe_name`): a name that is not its own id is kept
        among its aliases, where `/owner` finds it."""
        if (name := safe_name(entity.name)) != entity.name:
            entity.aliases = list(dict.fromkeys([*other_names(entity.name), *entity.aliases]))
            entity.name = name
        entity.namespace = safe_name(entity.namespace)
        entity.source_file = self.path_text  # one string per file, not one per entity
        entity.source_line = line
        if self._fits(entity, line):
            (self.implicit if implicit else self.entities).append(entity)

    def _fits(self, entity: Entity, line: int) -> bool:
        for field_name, limit in ENTITY_MAX_CHARS.items():
            if len(value := getattr(entity, field_name)) > limit:
                self.error(
                    line,
                    f"{entity.ref}: its {field_name} {excerpt(value)} has {len(value):,} "
                    f"characters, more than the {limit:,} allowed",
                )
                return False
        return True

    def add_owner(self, entity: Entity, owner: str, line: int) -> None:
        if owner not in entity.owners:
            entity.owners.append(owner)
            self.owner_checks.append(OwnerCheck(entity, owner, line))

    def add_reverse(self, holders: tuple[str, ...], relation: Relation) -> None:
        self.reverse.append(ReverseRelation(holders, relation))


def read_text(src: SourceFile) -> str | None:
    """The file's text, or None with the reason reported (unreadable, not UTF-8)."""
    try:
        data = src.path.read_bytes()
    except OSError as exc:
        src.error(1, f"cannot read: {exc.strerror or exc}")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        src.error(data.count(b"\n", 0, exc.start) + 1, "not UTF-8 text")
        return None


def load_documents(text: str, src: SourceFile, *, quick: bool = True) -> list[Node]:
    """The documents of a YAML stream, as root nodes. A syntax error becomes an error at its
    line; the documents before it are still returned. `quick=False` reads with the reference
    loader only (see `yamlload`), which the quick one falls back to on any problem."""
    if quick and (values := read_quickly(text)) is not None:
        return [Node(src, data, "", line) for data, line in values]
    documents: list[Node] = []
    try:
        for data, line in read_exactly(text):
            documents.append(Node(src, data, "", line))
    except ExpansionError as exc:  # valid YAML, too big to use
        src.error((exc.problem_mark.line + 1) if exc.problem_mark else 1, str(exc.problem))
    except yaml.MarkedYAMLError as exc:
        src.error(*_yaml_problem(exc))
    except yaml.reader.ReaderError as exc:
        src.error(text.count("\n", 0, exc.position) + 1, f"invalid YAML: {exc.reason}")
    except RecursionError:
        src.error(1, "invalid YAML: nested too deeply")
    return documents


def _yaml_problem(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """The line and message of a YAML error: where the parser noticed it, and what it was
    reading then (an unclosed bracket is noticed lines after it was opened)."""
    mark = exc.problem_mark or exc.context_mark
    message = exc.problem or exc.context or "syntax error"
    if exc.problem and exc.context and exc.context_mark:
        message += f" ({exc.context} on line {exc.context_mark.line + 1})"
    return (mark.line + 1 if mark else 1), f"invalid YAML: {message}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A value as a message quotes it: cut to `limit` characters, escaped and quoted (repr),
    so that no message carries more than a short piece of a file, nor a control character."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def bounded(message: str) -> str:
    """A message as it is reported: any character that is not printable escaped, and at most
    MESSAGE_CHARS long. The last guard for what a message quotes from a file unescaped
    (a key, a Location target)."""
    if not message.isprintable():
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    return message if len(message) <= MESSAGE_CHARS else message[: MESSAGE_CHARS - 3] + "..."


def describe(value: object) -> str:
    """A short, human description of a YAML value for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, YMap):
        return "a mapping"
    if isinstance(value, YList):
        return "a list"
    if isinstance(value, list):  # !!omap and !!pairs build plain lists of pairs
        return "a list of pairs"
    if isinstance(value, str):
        return excerpt(value)
    if isinstance(value, int | float):
        return str(value)
    return f"a {type(value).__name__} value"


def _substitution(value: object) -> str:
    """The `$text`/`$json`/`$yaml` key if `value` is a Backstage substitution placeholder."""
    if isinstance(value, YMap) and len(value) == 1:
        key = next(iter(value))
        if isinstance(key, str) and key.startswith("$"):
            return key
    return ""


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ cost a tenth of parsing
class Node:
    """One value of a document and where it is (`path` for messages, `line` for problems).

    `child()` never reports anything, so an absent or mistyped parent simply yields absent
    children; the typed readers (`text`, `texts`, `items`, `mapping`, `tier`) report a value
    of the wrong type once, at its own line, and return an empty value instead."""

    src: SourceFile
    raw: Any
    path: str
    line: int

    @property
    def present(self) -> bool:
        return self.raw is not None

    def child(self, key: str) -> Node:
        path = f"{self.path}.{key}" if self.path else key
        raw = self.raw
        if type(raw) is YMap and (line := raw.key_lines.get(key)) is not None:
            return Node(self.src, raw[key], path, line)
        return Node(self.src, None, path, self.line)

    def field_names(self) -> list[str]:
        return [str(key) for key in self.raw] if isinstance(self.raw, YMap) else []

    def warn_unknown(self, allowed: Collection[str]) -> None:
        """A warning for each key not in `allowed`: a typo must not pass unnoticed."""
        for key in self.field_names():
            # x-... keys are free for YAML anchors, as in docker-compose files
            if key not in allowed and not key.startswith("x-"):
                field = self.child(key)
                self.src.warning(field.line, f"{field.path}: unknown field, ignored")

    def _value(self, required: bool) -> Any:
        """The raw value, or None (reported if required) when it is absent or a placeholder."""
        placeholder = _substitution(self.raw)
        if placeholder:
            self.src.warning(self.line, f"{self.path}: {placeholder} substitutions are not read")
            return None
        if required and (self.raw is None or self.raw == ""):
            self.src.error(self.line, f"{self.path} is required")
            return None
        return self.raw

    def _wrong(self, expected: str) -> None:
        self.src.error(self.line, f"{self.path}: expected {expected}, got {describe(self.raw)}")

    def text(self, *, required: bool = False) -> str:
        value = self._value(required)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self._wrong("a string")
            return ""
        text = str(value).strip()
        if len(text) > MAX_TEXT_CHARS and len(text) > (limit := self._max_chars()):
            self.src.error(
                self.line, f"{self.path}: {len(text):,} characters, more than the {limit:,} allowed"
            )
            return ""
        return text

    def _max_chars(self) -> int:
        field = self.path.rpartition(".")[2].partition("[")[0]  # `tags[3]` -> `tags`
        return FIELD_MAX_CHARS.get(field, MAX_TEXT_CHARS)

    def need(self, key: str) -> str:
        """The text of a field this mapping must have; quiet when the mapping itself is absent
        or mistyped, which was reported already."""
        return self.child(key).text(required=self.present)

    def name(self) -> str:
        """A required name that is used as written, as part of a key (a scorecard's, a rule's
        id), so it cannot hold ':', '/' or spaces. Entity names are `entity_name`'s."""
        value = self.text(required=True)
        if value and any(char in value for char in ":/ \t"):
            self.src.error(
                self.line,
                f"{self.path}: {excerpt(value)} is not a valid name (no ':', '/' or spaces)",
            )
            return ""
        return value

    def entity_name(self) -> str:
        """A required entity name, as written: the entity's id is made of it (`safe_name`),
        so only a name with nothing to make an id of is an error."""
        value = self.text(required=True)
        if value and not safe_name(value):
            self.src.error(
                self.line,
                f"{self.path}: {excerpt(value)} has nothing to make an id of "
                "(only ':', '/' or spaces)",
            )
            return ""
        return value

    def items(self) -> list[Node]:
        value = self._value(False)
        if value is None:
            return []
        if not isinstance(value, YList):
            self._wrong("a list")
            return []
        return [
            Node(self.src, item, f"{self.path}[{index}]", line)
            for index, (item, line) in enumerate(zip(value, value.item_lines, strict=True))
        ]

    def items_once(self) -> Iterator[Node]:
        """`items()`, for a list read only once: each item's value is let go once it has been
        read, when nothing else holds the list (a `StreamedList`). A big catalog's long lists
        held their values beside the entities made of them: a third of a 50,000-service
        import's peak memory."""
        value = self.raw
        if type(value) is not StreamedList:
            yield from self.items()
            return
        for index, line in enumerate(value.item_lines):
            yield Node(self.src, value[index], f"{self.path}[{index}]", line)
            value[index] = None

    def texts(self) -> list[str]:
        return [text for item in self.items() if (text := item.text())]

    def mapping(self, *, required: bool = False) -> Node:
        """This node if it is a mapping; otherwise (reported) an absent node at the same place,
        so that reading its children goes on quietly."""
        value = self._value(required)
        if value is not None and not isinstance(value, YMap):
            self._wrong("a mapping")
        if isinstance(value, YMap):
            return self
        return Node(self.src, None, self.path, self.line)

    def tier(self) -> int | None:
        value = self._value(False)
        if value is None:
            return None
        tier = tier_number(value)
        if tier is None:
            self._wrong("a tier such as 1, tier-1 or tier_1 (0 to 9)")
        return tier
