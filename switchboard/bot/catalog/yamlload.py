"""YAML documents as `YMap`/`YList` values that remember the line of every key and item.

Two loaders build the same values:

- `read_exactly`, PyYAML's pure-Python loader composing each document's whole node tree and
  then constructing it: the reference, whose errors (the first one of a broken file, with its
  line) are what users see;
- `read_quickly`, libyaml's parser when PyYAML has it, with a composer that constructs each
  item of a list at the top of a document as soon as it is read and drops its nodes. A node
  costs about ten times the value built from it (two `Mark`s each, and the tree is kept
  whole until construction ends), so a 50,000-service catalog composed whole took ~500 MB;
  streamed, memory is that of the values. It gives up (None) on anything it cannot read, and
  the caller reads the text exactly instead, so a broken file reports what it always did.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any, cast

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

try:  # libyaml's parser, ~30x faster than the pure-Python one; optional in PyYAML
    from yaml.cyaml import CParser as _FastParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - this environment has libyaml
    _FastParser = None  # type: ignore[misc, assignment]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_SEQ_TAG = Resolver.DEFAULT_SEQUENCE_TAG
_MAP_TAG = Resolver.DEFAULT_MAPPING_TAG
# Our own tag for a top-level list whose items were constructed while it was read.
_BUILT_TAG = "tag:switchboard,2026:built-list"
# What libyaml reads otherwise than PyYAML (differential tests found each): tabs (`<\t`); a
# comment right after a block scalar's header (`|#`); tags (`!&b!`); a BOM or a line break
# other than \n and \r\n; characters YAML forbids (other messages); a ? in a flow list.
_LIBYAML_DIFFERS = re.compile(
    "\t|[|>][-+0-9]*#|(?:^|[\\s\\[\\]{},:?-])!|\ufeff|\r(?!\n)|[\x85\u2028\u2029]"
    f"|{Reader.NON_PRINTABLE.pattern}"
)


# What aliases may repeat in one file, in characters of scalars (keys and values, counted each
# time an alias or a merge `<<: *x` repeats them): ten times the file's own length, and at
# least a million. A 180 KB file repeating one 100 KB string 20,000 times (2 GB) is stopped
# after a few KB of work; a big catalog merging its defaults into every entry is not.
ALIAS_CHARS_PER_CHAR = 10
MIN_ALIAS_CHARS = 1_000_000


def alias_budget(text_length: int) -> int:
    return max(MIN_ALIAS_CHARS, ALIAS_CHARS_PER_CHAR * text_length)


class ExpansionError(ComposerError):
    """Aliases repeat more than the file's budget: reported at the alias that went past it."""


class YMap(dict[Any, Any]):
    """A YAML mapping that remembers the 1-based line of each key."""

    __slots__ = ("key_lines",)  # no per-instance __dict__: a catalog has tens of thousands

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[Any, int] = {}


class YList(list[Any]):
    """A YAML sequence that remembers the 1-based line of each item."""

    __slots__ = ("item_lines",)

    def __init__(self) -> None:
        super().__init__()
        self.item_lines: list[int] = []


class StreamedList(YList):
    """A list at the top of a document, built item by item by the streaming loader: it has
    no anchor, so nothing else in the document shares it (see `Node.items_once`)."""

    __slots__ = ()


class _BuiltList(SequenceNode):
    """Stands in the document's tree for a list already constructed item by item."""

    def __init__(self, data: YList, start: yaml.Mark, flow_style: bool | None) -> None:
        super().__init__(_BUILT_TAG, [], start, start, flow_style=flow_style)
        self.data = data


class _LineConstructor(SafeConstructor):
    """SafeConstructor building YMap/YList so every value can be traced back to its line."""

    def flatten_mapping(self, node: MappingNode) -> None:
        # Remembers how many pairs came from merges (`<<`): they come first in node.value once
        # flattened, and a node merged into another is flattened before its own turn, so
        # counting merge keys at construction would take merged pairs for its own (and report
        # an overridden merged key as a duplicate) depending on the order nodes are built.
        if hasattr(node, "merged_pairs"):
            return
        own = sum(1 for key, _ in node.value if key.tag != _MERGE_TAG)
        super().flatten_mapping(node)
        node.merged_pairs = len(node.value) - own  # type: ignore[attr-defined]

    def construct_line_map(self, node: MappingNode) -> Any:
        data = YMap()
        yield data  # yielded first so that recursive aliases resolve, like PyYAML's own maps
        self.flatten_mapping(node)
        first_own: int = node.merged_pairs  # type: ignore[attr-defined]
        own_keys: set[Any] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node)
            if not isinstance(key, Hashable):
                raise ConstructorError(
                    None, None, "a key must be a plain value", key_node.start_mark
                )
            if index >= first_own:
                if key in own_keys:
                    # Backstage's parser rejects these too; keeping the last one hides typos
                    quoted = repr(key)  # a key of any length: a message quotes a short piece
                    quoted = quoted if len(quoted) <= 42 else quoted[:39] + "..."
                    raise ConstructorError(
                        None, None, f"duplicate key {quoted}", key_node.start_mark
                    )
                own_keys.add(key)
            data[key] = self.construct_object(value_node)
            data.key_lines[key] = key_node.start_mark.line + 1

    def construct_line_seq(self, node: SequenceNode) -> Any:
        data = YList()
        yield data
        for child in node.value:
            data.append(self.construct_object(child))
            data.item_lines.append(child.start_mark.line + 1)

    def construct_built(self, node: _BuiltList) -> YList:
        return node.data

    def construct_text(self, node: ScalarNode) -> str:
        return self.construct_scalar(node)

    def construct_unknown_tag(self, suffix: str, node: yaml.Node) -> Any:
        """Read `!Ref x`-style custom tags (CloudFormation, Home Assistant...) as plain values,
        so such files are reported as "not a catalog file" rather than as broken YAML."""
        if isinstance(node, MappingNode):
            return self.construct_line_map(node)
        if isinstance(node, SequenceNode):
            return self.construct_line_seq(node)
        return self.construct_scalar(cast(ScalarNode, node))


def _add_constructors(constructor: Any) -> None:  # Any: PyYAML's stubs want a Loader class
    constructor.add_constructor("tag:yaml.org,2002:map", constructor.construct_line_map)
    constructor.add_constructor("tag:yaml.org,2002:seq", constructor.construct_line_seq)
    constructor.add_constructor(_BUILT_TAG, constructor.construct_built)
    # Dates stay strings: nothing in a catalog is a date, and PyYAML raises a bare ValueError
    # on impossible ones such as 2024-13-45.
    constructor.add_constructor("tag:yaml.org,2002:timestamp", constructor.construct_text)
    constructor.add_multi_constructor("!", constructor.construct_unknown_tag)


_add_constructors(_LineConstructor)


class _BoundedComposer(Composer):
    """PyYAML's composer, counting what aliases repeat against the file's budget.

    An alias composes to the node it names, shared, so reading it is cheap; but whatever is
    made of the values afterwards (a row, its JSON) is as big as their expansion. The size of
    an anchored node is counted once (memoized per document: a "billion laughs" nesting is a
    few additions), and charged each time an alias repeats it. An alias to a node still being
    composed, or to one that holds itself (recursive aliases), is charged the rest only."""

    if TYPE_CHECKING:  # the parser it is mixed with reads the events

        def peek_event(self) -> Any: ...

    def _start_budget(self, text_length: int) -> None:
        self._alias_room = alias_budget(text_length)
        self._budget = self._alias_room
        self._sizes: dict[Node, int] = {}
        self._anchored: set[Node] = set()

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        node = cast(Node, super().compose_node(parent, index))  # not None: an event is there
        if event.anchor is not None:  # an alias's anchor names an old node
            if isinstance(event, AliasEvent):
                self._charge(node, event.start_mark)
            else:
                self._anchored.add(node)
        return node

    def compose_document(self) -> Node:
        node = cast(Node, super().compose_document())
        self._forget_document()
        return node

    def _forget_document(self) -> None:
        self._sizes = {}
        self._anchored = set()

    def _charge(self, node: Node, mark: Any) -> None:  # libyaml's Mark, or PyYAML's
        self._alias_room -= self._expanded(node)
        if self._alias_room < 0:
            raise ExpansionError(
                None,
                None,
                f"aliases here repeat more than {self._budget:,} characters, this file's "
                f"limit ({ALIAS_CHARS_PER_CHAR} times its length, at least "
                f"{MIN_ALIAS_CHARS:,})",
                mark,
            )

    def _expanded(self, node: Node) -> int:
        """The characters of the scalars (keys too) of `node`, aliases within expanded."""
        if isinstance(node, ScalarNode):
            return len(node.value)
        known = self._sizes.get(node)
        if known is not None:
            return known
        if node.end_mark is None:  # still being composed: aliased from within itself
            return 0
        self._sizes[node] = 0  # a node holding an alias of itself repeats nothing more
        if isinstance(node, MappingNode):
            size = sum(self._expanded(key) + self._expanded(value) for key, value in node.value)
        else:
            size = sum(self._expanded(item) for item in node.value)
        self._sizes[node] = size
        return size


class _LineLoader(Reader, Scanner, Parser, _BoundedComposer, _LineConstructor, Resolver):
    """PyYAML's SafeLoader with our constructor: whole documents, pure Python."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)  # raises ReaderError on characters YAML forbids
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _LineConstructor.__init__(self)
        Resolver.__init__(self)
        self._start_budget(len(text))


class _StreamingComposer(_BoundedComposer, _LineConstructor, Resolver):
    """Composes a document as PyYAML does, except the lists that are values of its top-level
    mapping (a catalog's `services:`, `teams:`, `people:`): each of their items is constructed
    as soon as it is composed, and its nodes are dropped.

    Aliases still share one value: the values of anchored nodes are kept for later aliases
    (a copy per alias would multiply memory, as a "billion laughs" file does). A list is read
    the usual way when it, or the mapping holding it, has an anchor (an item could be an alias
    of its unfinished parent) or a tag, or is merged in (`<<:`)."""

    if TYPE_CHECKING:  # the parser it is mixed with reads the events

        def check_event(self, *choices: type[yaml.Event]) -> bool: ...
        def peek_event(self) -> Any: ...
        def get_event(self) -> Any: ...

    def __init__(self, text_length: int) -> None:
        Composer.__init__(self)
        _LineConstructor.__init__(self)
        Resolver.__init__(self)
        self._start_budget(text_length)

    def compose_document(self) -> Node:
        self.get_event()  # DocumentStartEvent
        node: Node
        if self._plain_start(MappingStartEvent, _MAP_TAG):
            node = self._compose_top_mapping()
        else:
            node = self.compose_node(None, None)
        self.get_event()  # DocumentEndEvent
        self.anchors = {}
        self._forget_document()
        return node

    def compose_scalar_node(self, anchor: Any) -> ScalarNode:
        event = self.peek_event()
        if event.tag == "!":
            # PyYAML resolves a `!`-tagged scalar as if untagged (`!` alone: null); libyaml
            # does too, except for an empty one, which it leaves a string.
            event.implicit = (True, False)
        return super().compose_scalar_node(anchor)

    def _plain_start(self, kind: type[yaml.Event], default_tag: str) -> bool:
        """Whether the next event starts a collection of `kind` with no anchor and no tag of
        its own."""
        if not self.check_event(kind):
            return False
        event = self.peek_event()
        tag = event.tag
        if tag is None or tag == "!":
            node_kind = MappingNode if kind is MappingStartEvent else SequenceNode
            tag = self.resolve(node_kind, None, event.implicit)  # type: ignore[no-untyped-call]
        return event.anchor is None and bool(tag == default_tag)

    def _compose_top_mapping(self) -> MappingNode:
        """`compose_mapping_node` for the document's root, streaming its list values."""
        self.descend_resolver(None, None)
        start = self.get_event()
        node = MappingNode(_MAP_TAG, [], start.start_mark, None, flow_style=start.flow_style)
        while not self.check_event(MappingEndEvent):
            key = self.compose_node(node, None)
            if key.tag != _MERGE_TAG and self._plain_start(SequenceStartEvent, _SEQ_TAG):
                value: Node = self._compose_built_list(node, key)
            else:
                value = self.compose_node(node, key)
            node.value.append((key, value))
        node.end_mark = self.get_event().end_mark
        self.ascend_resolver()
        return node

    def _compose_built_list(self, parent: Node, index: Node) -> _BuiltList:
        self.descend_resolver(parent, index)
        start = self.get_event()
        built = _BuiltList(StreamedList(), start.start_mark, start.flow_style)
        while not self.check_event(SequenceEndEvent):
            item = self.compose_node(built, len(built.data))
            built.data.append(self._construct_alone(item))
            built.data.item_lines.append(item.start_mark.line + 1)
        built.end_mark = self.get_event().end_mark
        self.ascend_resolver()
        return built

    def _construct_alone(self, node: Node) -> Any:
        """Construct one item completely (what `construct_document` does for a document),
        then forget its nodes."""
        data = self.construct_object(node)
        while self.state_generators:
            generators, self.state_generators = self.state_generators, []
            for generator in generators:
                for _ in generator:
                    pass
        self._forget(node)
        return data

    def _forget(self, node: Node) -> None:
        """Drop the constructor's cache entries for `node`'s tree (they keep the nodes alive),
        except those of anchored nodes, which later aliases reuse."""
        cache = self.constructed_objects
        stack = [node]
        while stack:  # not recursive: a deeply nested item must not overflow the stack
            current = stack.pop()
            if current in self._anchored:
                continue
            cache.pop(current, None)
            if isinstance(current, SequenceNode):
                stack.extend(current.value)
            elif isinstance(current, MappingNode):
                for key, value in current.value:
                    stack += (key, value)


if _FastParser is not None:

    class _StreamLoader(_StreamingComposer, _FastParser):
        def __init__(self, text: str) -> None:
            _FastParser.__init__(self, text)
            _StreamingComposer.__init__(self, len(text))

else:  # pragma: no cover - without libyaml, stream with the pure-Python parser

    class _StreamLoader(Reader, Scanner, Parser, _StreamingComposer):  # type: ignore[no-redef]
        def __init__(self, text: str) -> None:
            Reader.__init__(self, text)
            Scanner.__init__(self)
            Parser.__init__(self)
            _StreamingComposer.__init__(self, len(text))


def _documents(loader: Composer | _LineConstructor) -> Iterator[tuple[Any, int]]:
    """Each document's value and the line it starts at."""
    composer, constructor = cast(Composer, loader), cast(_LineConstructor, loader)
    while composer.check_node():
        node = cast(Node, composer.get_node())  # not None after check_node()
        yield constructor.construct_document(node), node.start_mark.line + 1


def read_exactly(text: str) -> Iterator[tuple[Any, int]]:
    """Each document's value and first line, with PyYAML's pure-Python loader. Raises what
    PyYAML raises (a YAMLError, RecursionError) at the first problem, after yielding the
    documents before it."""
    loader = _LineLoader(text)  # raises too: it checks the whole text for bad characters
    try:
        yield from _documents(loader)
    finally:
        loader.dispose()


def read_quickly(text: str) -> list[tuple[Any, int]] | None:
    """The same as `list(read_exactly(text))` for a text that `read_exactly` reads without an
    error, in less time and memory; None for any other."""
    if _libyaml_differs(text):  # rare in catalogs; left to the reference loader
        return None
    if "?" in text and ("[" in text or "{" in text):  # PyYAML ends `[a?]`'s scalar at the ?
        return None
    if _documents_are_small(text) and (built := _read_nodes(text)) is not None:
        return built
    try:
        loader = _StreamLoader(text)
        try:
            return list(_documents(loader))
        finally:
            loader.dispose()
    except Exception:  # any problem is reported as the exact loader reports it
        return None


# Plain ASCII text needs only some of `_LIBYAML_DIFFERS`'s checks, each cheap alone: the whole
# pattern, tried at every character, took a fifth of a 50,000-service import's parsing.
_ASCII_DIFFERS = re.compile("[\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|[|>][-+0-9]*#")
_TAG = re.compile("(?:^|[\\s\\[\\]{},:?-])!")


def _libyaml_differs(text: str) -> bool:
    if not text.isascii():
        return _LIBYAML_DIFFERS.search(text) is not None
    if _ASCII_DIFFERS.search(text):
        return True
    return "!" in text and _TAG.search(text) is not None


# The node path composes a whole document at once (libyaml's C composer): ten times the
# document's size in nodes. Documents up to this many characters are read that way; a file
# with a bigger one (a native catalog is one document) is streamed item by item instead.
NODE_DOCUMENT_CHARS = 1_000_000
_DOCUMENT_START = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|$)", re.MULTILINE)


def _documents_are_small(text: str) -> bool:
    if len(text) <= NODE_DOCUMENT_CHARS:
        return True
    start = 0
    for marker in _DOCUMENT_START.finditer(text):
        if marker.start() - start > NODE_DOCUMENT_CHARS:
            return False
        start = marker.start()
    return len(text) - start <= NODE_DOCUMENT_CHARS


class _GiveUp(Exception):
    """What the node path does not build (aliases, merges, tags, duplicate keys): the
    streaming loader, and the reference one behind it, read such a text."""


class _RememberingResolver(Resolver):
    """PyYAML's resolver, remembering the tag of each plain scalar it resolved (it depends on
    the text alone: keys and most values repeat from one entity to the next). Resolving took
    two fifths of composing a 50,000-service catalog."""

    REMEMBERED = 10_000  # texts at most, per file

    def __init__(self) -> None:
        super().__init__()
        self._tags: dict[str, str] = {}

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is not ScalarNode or not implicit[0]:
            return cast(str, super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]
        tag = self._tags.get(value)
        if tag is None:
            tag = cast(str, super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]
            if len(self._tags) < self.REMEMBERED:
                self._tags[value] = tag
        return tag

    # No path resolvers are registered: these are no-ops, called for every node.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


if _FastParser is not None:

    class _NodeLoader(_FastParser, _RememberingResolver):  # libyaml's parser and composer, in C
        def __init__(self, text: str) -> None:
            _FastParser.__init__(self, text)
            _RememberingResolver.__init__(self)


_SCALARS = SafeConstructor()
_INT, _FLOAT = _SCALARS.construct_yaml_int, _SCALARS.construct_yaml_float
_STR, _BOOL, _NULL = (f"tag:yaml.org,2002:{name}" for name in ("str", "bool", "null"))
_NUMBERS = {"tag:yaml.org,2002:int": _INT, "tag:yaml.org,2002:float": _FLOAT}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _read_nodes(text: str) -> list[tuple[Any, int]] | None:
    """The values `read_exactly` gives for a text made of plain mappings, lists and scalars,
    built from libyaml's own node trees (which keep every line); None for any other text."""
    if _FastParser is None:  # pragma: no cover - this environment has libyaml
        return None
    try:
        loader = _NodeLoader(text)
        try:
            documents = []
            while loader.check_node():
                node = cast(Node, loader.get_node())  # not None after check_node()
                seen: set[int] | None = set() if "*" in text else None  # * starts an alias
                documents.append((_build(node, seen), node.start_mark.line + 1))
            return documents
        finally:
            loader.dispose()
    except Exception:  # _GiveUp, a syntax error, nesting too deep: the other loaders decide
        return None


def _build(node: Node, seen: set[int] | None) -> Any:
    """One node's value, as `_LineConstructor` builds it; `seen` holds the nodes built so far
    when the text may have aliases (a node met twice is one), which are given up on."""
    if seen is not None:
        if id(node) in seen:
            raise _GiveUp
        seen.add(id(node))
    tag = node.tag
    if type(node) is ScalarNode:
        if tag in (_STR, _TIMESTAMP):  # dates stay strings, as in _LineConstructor
            return node.value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return _BOOL_VALUES[node.value.lower()]
        if tag in _NUMBERS:
            return _NUMBERS[tag](node)
        raise _GiveUp
    if type(node) is MappingNode and tag == _MAP_TAG:
        data = YMap()
        lines = data.key_lines
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise _GiveUp
            key = _build(key_node, seen)
            if key in data:  # a duplicate (reported by the reference loader), or unhashable
                raise _GiveUp
            data[key] = _build(value_node, seen)
            lines[key] = key_node.start_mark.line + 1
        return data
    if type(node) is SequenceNode and tag == _SEQ_TAG:
        items = YList()
        item_lines = items.item_lines
        for child in node.value:
            items.append(_build(child, seen))
            item_lines.append(child.start_mark.line + 1)
        return items
    raise _GiveUp


_BOOL_VALUES = SafeConstructor.bool_values
