"""The typed tree a CQL expression parses into. Every node keeps where it starts, so that
compile and run-time errors point at the exact spot."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pos:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Literal:
    value: bool | int | float | str | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class ListOf:
    items: tuple[Node, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Name:
    """A bare name: a data namespace (`git`), or a lambda's parameter."""

    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Member:
    target: Node
    name: str
    pos: Pos  # of the name


@dataclass(frozen=True, slots=True)
class Index:
    target: Node
    key: Node
    pos: Pos


@dataclass(frozen=True, slots=True)
class Call:
    """`name(args)`, or `target.name(args)` when `target` is set."""

    target: Node | None
    name: str
    args: tuple[Node, ...]
    named: tuple[tuple[str, Node], ...]
    pos: Pos  # of the name


@dataclass(frozen=True, slots=True)
class Lambda:
    param: str
    body: Node
    pos: Pos


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "!" or "-"
    operand: Node
    pos: Pos


@dataclass(frozen=True, slots=True)
class Binary:
    """Comparison or arithmetic: `op` is one of == != < <= > >= + - * / %."""

    op: str
    left: Node
    right: Node
    pos: Pos  # of the operator


@dataclass(frozen=True, slots=True)
class Logic:
    """`&&` or `||` over two or more operands: chains are flat, so `a && b && c` is one
    node and a long conjunction does not count against the nesting limit."""

    op: str
    operands: tuple[Node, ...]
    pos: Pos


Node = Literal | ListOf | Name | Member | Index | Call | Lambda | Unary | Binary | Logic


def show(node: Node) -> str:
    """A compact one-line form of a tree, for tests and messages: `(> (. x length) 0)`."""
    match node:
        case Literal(value=None):
            return "null"
        case Literal(value=bool(flag)):
            return "true" if flag else "false"
        case Literal(value=str(text)):
            return repr(text)
        case Literal(value=value):
            return repr(value)
        case ListOf(items=items):
            return "[" + " ".join(show(i) for i in items) + "]"
        case Name(name=name):
            return name
        case Member(target=target, name=name):
            return f"(. {show(target)} {name})"
        case Index(target=target, key=key):
            return f"([] {show(target)} {show(key)})"
        case Call(target=target, name=name, args=args, named=named):
            parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in named]
            head = name if target is None else f"{show(target)}.{name}"
            return "(" + " ".join([head, *parts]) + ")"
        case Lambda(param=param, body=body):
            return f"(=> {param} {show(body)})"
        case Unary(op=op, operand=operand):
            return f"({op} {show(operand)})"
        case Binary(op=op, left=left, right=right):
            return f"({op} {show(left)} {show(right)})"
        case Logic(op=op, operands=operands):
            return "(" + " ".join([op, *(show(o) for o in operands)]) + ")"


def text(node: Node) -> str:
    """The node written back as CQL (for reasons: "links("runbook").length is 0")."""
    match node:
        case Literal(value=str(value)):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        case Literal() | ListOf() | Name():
            return (
                show(node)
                if not isinstance(node, ListOf)
                else ("[" + ", ".join(text(i) for i in node.items) + "]")
            )
        case Member(target=target, name=name):
            return f"{_operand(target)}.{name}"
        case Index(target=target, key=key):
            return f"{_operand(target)}[{text(key)}]"
        case Call(target=target, name=name, args=args, named=named):
            parts = [text(a) for a in args] + [f"{k}={text(v)}" for k, v in named]
            head = name if target is None else f"{_operand(target)}.{name}"
            return f"{head}({', '.join(parts)})"
        case Lambda(param=param, body=body):
            return f"{param} => {text(body)}"
        case Unary(op=op, operand=operand):
            return f"{op}{_operand(operand)}"
        case Binary(op=op, left=left, right=right):
            return f"{_operand(left)} {op} {_operand(right)}"
        case Logic(op=op, operands=operands):
            return f" {op} ".join(_operand(o) for o in operands)


def _operand(node: Node) -> str:
    return f"({text(node)})" if isinstance(node, Binary | Logic | Lambda) else text(node)
