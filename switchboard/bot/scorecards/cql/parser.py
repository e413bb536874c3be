"""CQL text -> the typed tree (`ast`), with errors that say where and what.

The grammar is `cql.lark`, read once per process. Hostile input is refused before it can
cost much: a length limit, a nesting limit checked on lark's tree without recursion (the
conversion below recurses, so it only ever sees trees within the limit), and bounds on
number literals.
"""

from __future__ import annotations

import ast as python
import functools
import re
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from switchboard.bot.scorecards.cql.ast import (
    Binary,
    Call,
    Index,
    Lambda,
    ListOf,
    Literal,
    Logic,
    Member,
    Name,
    Node,
    Pos,
    Unary,
)
from switchboard.bot.scorecards.cql.errors import LIMIT, SYNTAX, UNSUPPORTED, CqlError

MAX_LENGTH = 10_000  # characters in one expression
MAX_DEPTH = 40  # nested calls, brackets and operators (flat `&&`/`||` chains count once)
MAX_NUMBER = 30  # characters in a number literal
_COMMENTS = re.compile(r"/\*.*?\*/", re.DOTALL)
# what lark calls the tokens it expected, as a reader would write them
_TOKENS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "COMPARE": "a comparison",
    "ADD": "`+` or `-`",
    "MUL": "`*`, `/` or `%`",
    "$END": "the end",
}


@functools.cache
def _grammar() -> Lark:
    text = resources.files(__package__).joinpath("cql.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def parse(text: str) -> Node:
    """The tree of one expression; `CqlError` (with a position) when it is not CQL."""
    if len(text) > MAX_LENGTH:
        raise CqlError(LIMIT, f"expression longer than {MAX_LENGTH} characters", Pos(1, 1))
    if not _COMMENTS.sub("", text).strip():
        what = "a placeholder comment, not a rule" if text.strip() else "an empty expression"
        raise CqlError(UNSUPPORTED, what, Pos(1, 1))
    try:
        tree = _grammar().parse(text)
    except UnexpectedInput as error:
        raise _syntax(error, text) from None
    _check_depth(tree)
    return _node(tree)


def _syntax(error: UnexpectedInput, text: str) -> CqlError:
    pos = Pos(max(error.line, 1), max(error.column, 1))
    if isinstance(error, UnexpectedCharacters):
        at = error.pos_in_stream or 0
        char = text[at] if at < len(text) else ""
        if char in "\"'":
            return CqlError(SYNTAX, "unterminated string", pos)
        return CqlError(SYNTAX, f"unexpected character {char!r}", pos)
    names: set[str] = set()
    if isinstance(error, UnexpectedToken | UnexpectedEOF):
        names = {str(name) for name in error.expected}
    expected = _expected(names)
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        return CqlError(SYNTAX, f"unexpected end of expression{expected}", _end(text))
    assert isinstance(error, UnexpectedToken)
    return CqlError(SYNTAX, f"unexpected `{error.token}`{expected}", pos)


def _expected(names: set[str]) -> str:
    grammar = _grammar()
    words = []
    for name in sorted(names):
        if name in _TOKENS:
            words.append(_TOKENS[name])
            continue
        try:
            words.append(f"`{grammar.get_terminal(name).pattern.value}`")
        except KeyError:
            words.append(name)
    if not words or len(words) > 6:
        return ""
    return ", expected " + (
        words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    )


def _end(text: str) -> Pos:
    """The position just after the last character that is not a space."""
    lines = text.rstrip().splitlines() or [""]
    return Pos(len(lines), len(lines[-1]) + 1)


def _check_depth(tree: Tree[Token]) -> None:
    """Refuse trees nested deeper than MAX_DEPTH, without recursing."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        flat = node.data in ("and_op", "or_op")
        for child in node.children:
            if not isinstance(child, Tree):
                continue
            # a chain `a && b && c` nests in lark's tree but is one node in ours, and an
            # argument list is no level of its own
            same = flat and child.data == node.data
            deeper = depth if same or child.data in ("args", "named") else depth + 1
            if deeper > MAX_DEPTH:
                raise CqlError(LIMIT, f"nested deeper than {MAX_DEPTH} levels", _pos(child))
            stack.append((child, deeper))


def _pos(item: Tree[Token] | Token) -> Pos:
    if isinstance(item, Token):
        return Pos(item.line or 1, item.column or 1)
    meta = item.meta
    return Pos(getattr(meta, "line", 1), getattr(meta, "column", 1))


def _node(tree: Tree[Token]) -> Node:
    kids = tree.children
    pos = _pos(tree)
    match tree.data:
        case "number":
            return Literal(_number(_token(kids[0])), pos)
        case "string":
            return Literal(_string(_token(kids[0])), pos)
        case "true" | "false":
            return Literal(tree.data == "true", pos)
        case "null":
            return Literal(None, pos)
        case "list":
            return ListOf(tuple(_node(_tree(k)) for k in kids if k is not None), pos)
        case "var":
            return Name(str(kids[0]), pos)
        case "member":
            return Member(_node(_tree(kids[0])), str(kids[1]), _pos(_token(kids[1])))
        case "index":
            return Index(_node(_tree(kids[0])), _node(_tree(kids[1])), pos)
        case "method":
            args, named = _args(kids[2])
            return Call(_node(_tree(kids[0])), str(kids[1]), args, named, _pos(_token(kids[1])))
        case "call":
            args, named = _args(kids[1])
            return Call(None, str(kids[0]), args, named, pos)
        case "lambda":
            return Lambda(str(kids[0]), _node(_tree(kids[1])), pos)
        case "not_op":
            return Unary("!", _node(_tree(kids[0])), pos)
        case "neg":
            return Unary("-", _node(_tree(kids[0])), pos)
        case "compare_op" | "arith":
            op = _token(kids[1])
            return Binary(str(op), _node(_tree(kids[0])), _node(_tree(kids[2])), _pos(op))
        case "and_op" | "or_op":
            return Logic("&&" if tree.data == "and_op" else "||", _chain(tree), pos)
    raise AssertionError(f"grammar rule without a node: {tree.data}")


def _chain(tree: Tree[Token]) -> tuple[Node, ...]:
    """The operands of a left-nested `&&` (or `||`) chain, in order."""
    operands: list[Node] = []
    while True:
        left, right = _tree(tree.children[0]), _tree(tree.children[1])
        operands.append(_node(right))
        if left.data != tree.data:
            operands.append(_node(left))
            return tuple(reversed(operands))
        tree = left


def _args(item: object) -> tuple[tuple[Node, ...], tuple[tuple[str, Node], ...]]:
    if item is None:
        return (), ()
    args: list[Node] = []
    named: list[tuple[str, Node]] = []
    for arg in _tree(item).children:
        arg = _tree(arg)
        if arg.data == "named":
            name = _token(arg.children[0])
            if named and any(n == str(name) for n, _ in named):
                raise CqlError(SYNTAX, f"argument `{name}` given twice", _pos(name))
            named.append((str(name), _node(_tree(arg.children[1]))))
        elif named:
            raise CqlError(SYNTAX, "a positional argument after a named one", _pos(arg))
        else:
            args.append(_node(arg))
    return tuple(args), tuple(named)


def _number(token: Token) -> int | float:
    text = str(token)
    if len(text) > MAX_NUMBER:
        raise CqlError(LIMIT, f"number literal longer than {MAX_NUMBER} characters", _pos(token))
    if text.isdigit():
        return int(text)
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise CqlError(LIMIT, f"number literal {text} is too large", _pos(token))
    return value


def _string(token: Token) -> str:
    text = str(token)
    if text[0] == "'":  # Python's own literal reading, from a double-quoted twin
        text = '"' + text[1:-1].replace('\\"', '"').replace('"', '\\"') + '"'
    try:
        value = python.literal_eval(text)
    except (ValueError, SyntaxError):
        raise CqlError(SYNTAX, "invalid escape in string", _pos(token)) from None
    assert isinstance(value, str)
    return value


def _tree(item: object) -> Tree[Token]:
    assert isinstance(item, Tree), item
    return item


def _token(item: object) -> Token:
    assert isinstance(item, Token), item
    return item
