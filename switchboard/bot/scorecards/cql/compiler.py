"""CQL tree -> a Python function, compiled once per rule, run once per service.

Each expression becomes the source of one small Python function over `(e, r, c, cap)` (the
entity, its ref, the prefetched `Context`, the rule's captures), calling the helpers of `values`,
`methods` and `data`; the source is generated from our own tree only (names are checked
against the tables below, literals written with `repr`), so nothing of the rule's text is
ever executed as Python. A rule at the top is split into its `&&` parts and each part's
comparison, so that a failing service's reason ("sonarqube.metric("coverage") is 42, must
be > 50") costs nothing extra to build.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.bot.catalog.api import Entity
from switchboard.bot.scorecards.cql import data, methods, values
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
    text,
)
from switchboard.bot.scorecards.cql.context import (
    DEPENDENTS,
    GITHUB,
    ONCALL,
    PUSHED,
    RECORDS,
    SONARQUBE,
    Context,
)
from switchboard.bot.scorecards.cql.errors import NAME, TYPE, UNSUPPORTED, CqlError, closest
from switchboard.bot.scorecards.cql.jqrun import JqWorker, check_program
from switchboard.bot.scorecards.cql.parser import parse

# A rule's outcome for one entity.
PASS, FAIL, NEEDS, ERROR = "pass", "fail", "needs", "error"


@dataclass(frozen=True, slots=True)
class Spec:
    """A function, or a method of a data namespace: its helper, its parameters (in
    order; any may be named), how many are required, the source it needs, and the fact
    key its first argument names (for the facts code to know what to fetch)."""

    helper: Callable[..., Any]
    params: tuple[str, ...] = ()
    required: int = 0
    source: str = ""
    fact: str = ""  # e.g. "git.file:{}": formatted with a literal first argument
    lookback: int = 0  # days of our incidents it reads by default (RECORDS only)
    # for a first argument that must be a literal (what to fetch is gathered from the
    # rules): why a given one is refused, "" when it is fine
    literal: Callable[[Any], str] | None = None


# name -> spec; each helper takes (entity, context, pos, *params)
FUNCTIONS: dict[str, Spec] = {
    "description": Spec(data.description),
    "links": Spec(data.links, ("type",)),
    "groups": Spec(data.groups),
    "hasGroup": Spec(data.has_group, ("group",), 1),
    "custom": Spec(data.custom, ("key",), 1, PUSHED, "custom.{}"),
    "customMetrics": Spec(data.custom, ("key",), 1, PUSHED, "custom.{}"),
    "deploys": Spec(data.deploys, ("lookback",), 0, GITHUB, "git.deployments"),
    "incidents": Spec(data.incidents, ("lookback", "severity"), 0, RECORDS, "", 30),
}
# functions compiled specially: pure, or taking a literal
SPECIAL = ("duration", "semver", "jq", "captures")

# namespace -> (its value as `x != null` reads it, its methods)
NAMESPACES: dict[str, tuple[Callable[[Entity, str, Context], Any] | None, dict[str, Spec]]] = {
    "entity": (
        None,
        {
            "description": Spec(data.description),
            "name": Spec(data.entity_name),
            "tag": Spec(data.entity_tag),
            "type": Spec(data.entity_type),
        },
    ),
    "ownership": (
        data.ownership,
        {"teams": Spec(data.owner_teams), "allOwners": Spec(data.all_owners)},
    ),
    "slack": (data.slack, {"channels": Spec(data.slack_channels)}),
    "dependencies": (
        data.dependencies,
        {"in": Spec(data.dependencies_in, (), 0, DEPENDENTS), "out": Spec(data.dependencies_out)},
    ),
    "oncall": (
        data.oncall,
        {
            "details": Spec(data.oncall_details, (), 0, ONCALL, "oncall.now"),
            "numOfEscalations": Spec(data.oncall_escalations, (), 0, ONCALL, "oncall.now"),
            "analysis": Spec(data.oncall_analysis, ("lookback",), 0, RECORDS, "", 7),
        },
    ),
    "git": (
        data.git,
        {
            "fileExists": Spec(data.git_file_exists, ("path",), 1, GITHUB, "git.file:{}"),
            "defaultBranch": Spec(data.git_default_branch, (), 0, GITHUB, "git.repository"),
            "numOfVulnerabilities": Spec(
                data.git_vulnerabilities, ("severity",), 0, GITHUB, "git.vulnerabilities"
            ),
            "pullRequests": Spec(
                data.git_pull_requests, ("status",), 0, GITHUB, "git.pull_requests.open"
            ),
            "lastCommit": Spec(data.git_last_commit, (), 0, GITHUB, "git.last_push"),
            "releases": Spec(data.git_releases, (), 0, GITHUB, "git.latest_release"),
            "codeSearch": Spec(
                data.git_code_search,
                ("query",),
                1,
                GITHUB,
                "git.code_search:{}",
                literal=data.code_search_problem,
            ),
        },
    ),
    "sonarqube": (
        data.sonarqube,
        {"metric": Spec(data.sonarqube_metric, ("key",), 1, SONARQUBE, "sonarqube.{}")},
    ),
}
# Methods Cortex has that we refuse when the rule is read, each saying why and what instead.
REFUSED: dict[tuple[str, str], str] = {}
# Tools we do not pull from: `snyk.numOfIssues()` reads the pushed fact `snyk.issues`.
PUSHED_TOOLS = (
    "snyk",
    "jira",
    "datadog",
    "sentry",
    "newrelic",
    "bugsnag",
    "checkmarx",
    "veracode",
    "wiz",
    "mend",
    "launchdarkly",
    "rollbar",
    "dynatrace",
    "codecov",
    "coralogix",
    "splunk",
)

# value method -> (helper, what its argument is: "" none, "fn" a lambda, "re" a regular
# expression, "value" any value, "now" none but the context's clock)
METHODS: dict[str, tuple[Callable[..., Any], str]] = {
    "length": (methods.length, ""),
    "size": (methods.length, ""),
    "any": (methods.any_of, "fn"),
    "all": (methods.all_of, "fn"),
    "none": (methods.none_of, "fn"),
    "filter": (methods.filter_of, "fn"),
    "map": (methods.map_of, "fn"),
    "sum": (methods.sum_of, ""),
    "average": (methods.average_of, ""),
    "min": (methods.min_of, ""),
    "max": (methods.max_of, ""),
    "get": (methods.get, "value"),
    "contains": (methods.contains, "value"),
    "matches": (methods.matches, "re"),
    "anyMatch": (methods.any_match, "re"),
    "fromNow": (methods.from_now, "now"),
    "isStable": (methods.is_stable, ""),
}
_PROPERTIES = {"length", "size"}  # methods also written without parentheses
_COMPARE = {"==": "_eq", "!=": "_ne", "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}


def _ne(left: Any, right: Any) -> bool:
    return not values.equal(left, right)


_HELPERS: dict[str, Any] = {
    "_eq": values.equal,
    "_ne": _ne,
    "_lt": values.less,
    "_le": values.less_equal,
    "_gt": values.greater,
    "_ge": values.greater_equal,
    "_arith": values.arithmetic,
    "_neg": values.negate,
    "_truth": values.truth,
    "_field": methods.field,
    "_index": methods.index,
    "_pattern": methods.pattern,
    "_semver": values.semver,
    "_duration": values.duration,
    "_pushed": data.pushed,
    "_pushed_ns": data.pushed_namespace,
}


def _capture(cap: dict[str, Any], name: str, value: Any) -> Any:
    cap[name] = value
    return value


@dataclass(slots=True)
class _Gen:
    """Code generation for one rule: constants by name, sources and facts it reads."""

    jq: JqWorker | None
    consts: dict[str, Any] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)
    facts: set[str] = field(default_factory=set)
    scope: tuple[str, ...] = ()
    lookback: int = 0  # days of our incidents the rule reads
    bare: set[str] = field(default_factory=set)  # namespaces read as values (`git != null`)

    def const(self, value: Any) -> str:
        name = f"K{len(self.consts)}"
        self.consts[name] = value
        return name

    def pos(self, pos: Pos) -> str:
        return self.const(pos)

    def code(self, node: Node) -> str:
        match node:
            case Literal(value=value):
                return repr(value)
            case ListOf(items=items):
                return "[" + ", ".join(self.code(i) for i in items) + "]"
            case Name(name=name, pos=pos):
                return self.name(name, pos)
            case Member(target=Name(name=ns), name=name, pos=pos) if self.namespace(ns):
                return self.namespace_call(ns, Call(node.target, name, (), (), pos))
            case Member(target=target, name=name, pos=pos):
                if name in _PROPERTIES or (name in METHODS and METHODS[name][1] in ("", "now")):
                    return self.method(Call(target, name, (), (), pos))
                return f"_field({self.code(target)}, {name!r}, {self.pos(pos)})"
            case Index(target=target, key=key, pos=pos):
                return f"_index({self.code(target)}, {self.code(key)}, {self.pos(pos)})"
            case Call(target=None):
                return self.function(node)
            case Call(target=Name(name=ns)) if self.namespace(ns):
                return self.namespace_call(ns, node)
            case Call():
                return self.method(node)
            case Lambda(pos=pos):
                raise CqlError(
                    TYPE,
                    "a lambda (x => ...) is only an argument of .any, .all, .none, .filter or .map",
                    pos,
                )
            case Unary(op="!", operand=operand, pos=pos):
                return f"(not _truth({self.code(operand)}, '`!`', {self.pos(pos)}))"
            case Unary(operand=operand, pos=pos):
                return f"_neg({self.code(operand)}, {self.pos(pos)})"
            case Binary(op=op, left=left, right=right, pos=pos) if op in _COMPARE:
                where = "" if op in ("==", "!=") else f", {self.pos(pos)}"
                return f"{_COMPARE[op]}({self.code(left)}, {self.code(right)}{where})"
            case Binary(op=op, left=left, right=right, pos=pos):
                return f"_arith({op!r}, {self.code(left)}, {self.code(right)}, {self.pos(pos)})"
            case Logic(op=op, operands=operands, pos=pos):
                joiner = " and " if op == "&&" else " or "
                where = self.pos(pos)
                return (
                    "("
                    + joiner.join(f"_truth({self.code(o)}, '`{op}`', {where})" for o in operands)
                    + ")"
                )
        raise AssertionError(node)

    def namespace(self, name: str) -> bool:
        return name not in self.scope and (name in NAMESPACES or name in PUSHED_TOOLS)

    def name(self, name: str, pos: Pos) -> str:
        if name in self.scope:
            return f"v_{name}"
        if name in NAMESPACES:
            self.bare.add(name)
            bare = NAMESPACES[name][0]
            if bare is None:
                raise CqlError(
                    TYPE,
                    f"`{name}` has no value of its own: call one of its "
                    f"methods ({_listing(NAMESPACES[name][1])})",
                    pos,
                )
            return f"{self.const(bare)}(e, r, c)"
        if name in PUSHED_TOOLS:
            self.sources.add(PUSHED)
            self.facts.add(name)
            return f"_pushed_ns(e, r, c, {name!r})"
        if name in FUNCTIONS or name in SPECIAL:
            raise CqlError(TYPE, f"`{name}` is a function: call it, `{name}(...)`", pos)
        known = [*NAMESPACES, *PUSHED_TOOLS, *FUNCTIONS, *self.scope]
        hint = closest(name, known)
        if hint:
            raise CqlError(NAME, f"unknown name `{name}`{hint}", pos)
        raise CqlError(UNSUPPORTED, f"`{name}`: no data source of that name here", pos)

    def arguments(self, spec: Spec, call: Call, what: str) -> list[str]:
        given: dict[str, Node] = {}
        if len(call.args) > len(spec.params):
            raise CqlError(
                TYPE,
                f"{what} takes at most {len(spec.params)} argument"
                f"{'' if len(spec.params) == 1 else 's'}, got {len(call.args)}",
                call.pos,
            )
        for param, arg in zip(spec.params, call.args, strict=False):
            given[param] = arg
        for name, arg in call.named:
            if name not in spec.params:
                hint = closest(name, spec.params) or (
                    f" (it takes {', '.join(spec.params)})" if spec.params else " (it takes none)"
                )
                raise CqlError(NAME, f"{what} has no argument `{name}`{hint}", arg_pos(arg, call))
            if name in given:
                raise CqlError(TYPE, f"{what}: argument `{name}` given twice", call.pos)
            given[name] = arg
        missing = [p for p in spec.params[: spec.required] if p not in given]
        if missing:
            raise CqlError(TYPE, f"{what} needs `{missing[0]}`", call.pos)
        if spec.source:
            self.sources.add(spec.source)
        if spec.source == RECORDS:
            self.lookback = max(self.lookback, _days(given.get("lookback"), spec.lookback))
        first = given.get(spec.params[0]) if spec.params else None
        if spec.literal is not None and first is not None:
            value = first.value if isinstance(first, Literal) else None
            if problem := spec.literal(value):
                raise CqlError(TYPE, problem, arg_pos(first, call))
        if spec.fact:
            if "{}" not in spec.fact:
                self.facts.add(spec.fact)
            elif isinstance(first, Literal) and isinstance(first.value, str):
                self.facts.add(spec.fact.format(first.value))
        return [self.code(given[p]) if p in given else "None" for p in spec.params]

    def function(self, call: Call) -> str:
        name, pos = call.name, call.pos
        if name in SPECIAL:
            return self.special(call)
        spec = FUNCTIONS.get(name)
        if spec is None:
            if name in NAMESPACES or name in PUSHED_TOOLS:
                raise CqlError(
                    TYPE, f"`{name}` is not a function: use `{name}` or its methods", pos
                )
            hint = closest(name, [*FUNCTIONS, *SPECIAL])
            if hint:
                raise CqlError(NAME, f"unknown function `{name}()`{hint}", pos)
            raise CqlError(UNSUPPORTED, f"`{name}()` is not a function we can evaluate", pos)
        args = self.arguments(spec, call, f"`{name}()`")
        return (
            f"{self.const(spec.helper)}(e, r, c, {self.pos(pos)}{''.join(', ' + a for a in args)})"
        )

    def special(self, call: Call) -> str:
        name, pos, args = call.name, call.pos, call.args
        if call.named:
            raise CqlError(TYPE, f"`{name}()` takes no named arguments", call.named[0][1].pos)
        wanted = {"duration": 1, "semver": 1, "jq": 2, "captures": 2}[name]
        if len(args) != wanted:
            raise CqlError(
                TYPE,
                f"`{name}()` takes {wanted} argument{'s' if wanted > 1 else ''}, got {len(args)}",
                pos,
            )
        if name == "duration":
            if isinstance(args[0], Literal):  # the usual case: one value, computed now
                return self.const(values.duration(args[0].value, args[0].pos))
            return f"_duration({self.code(args[0])}, {self.pos(pos)})"
        if name == "semver":
            return f"_semver({self.code(args[0])}, {self.pos(pos)})"
        if name == "captures":
            if not (isinstance(args[0], Literal) and isinstance(args[0].value, str)):
                raise CqlError(TYPE, "captures(): the name must be a string literal", args[0].pos)
            return f"{self.const(_capture)}(cap, {args[0].value!r}, {self.code(args[1])})"
        program = args[1].value if isinstance(args[1], Literal) else None
        checked = check_program(program, args[1].pos)
        assert self.jq is not None
        runner = self.const(self.jq.run)
        return f"{runner}({checked!r}, {self.code(args[0])}, {self.pos(pos)})"

    def namespace_call(self, ns: str, call: Call) -> str:
        if ns in PUSHED_TOOLS:
            return self.pushed_call(ns, call)
        specs = NAMESPACES[ns][1]
        spec = specs.get(call.name)
        if refused := REFUSED.get((ns, call.name)):
            raise CqlError(UNSUPPORTED, refused, call.pos)
        if spec is None:
            hint = closest(call.name, specs)
            kind = NAME if hint else UNSUPPORTED
            listing = hint or f" (known: {_listing(specs)})"
            raise CqlError(
                kind, f"`{ns}.{call.name}()` is not something we can evaluate{listing}", call.pos
            )
        args = self.arguments(spec, call, f"`{ns}.{call.name}()`")
        helper = self.const(spec.helper)
        return f"{helper}(e, r, c, {self.pos(call.pos)}{''.join(', ' + a for a in args)})"

    def pushed_call(self, ns: str, call: Call) -> str:
        if call.args or call.named:
            raise CqlError(
                UNSUPPORTED,
                f"`{ns}.{call.name}(...)`: arguments to a pushed tool's "
                "functions are not supported (push the value you want under its own "
                "key)",
                call.pos,
            )
        key = f"{ns}.{pushed_key(call.name)}"
        self.sources.add(PUSHED)
        self.facts.add(key)
        return f"_pushed(e, r, c, {key!r})"

    def method(self, call: Call) -> str:
        assert call.target is not None
        entry = METHODS.get(call.name)
        if entry is None:
            hint = closest(call.name, METHODS)
            kind = NAME if hint else UNSUPPORTED
            raise CqlError(kind, f"unknown method `.{call.name}`{hint}", call.pos)
        helper, argument = entry
        target, pos = self.code(call.target), self.pos(call.pos)
        args = list(call.args) + [v for _, v in call.named]
        if len(args) != (0 if argument in ("", "now") else 1):
            takes = "no argument" if argument in ("", "now") else "one argument"
            raise CqlError(TYPE, f"`.{call.name}` takes {takes}, got {len(args)}", call.pos)
        fn = self.const(helper)
        match argument:
            case "":
                return f"{fn}({target}, {pos})"
            case "now":
                return f"{fn}({target}, c.now, {pos})"
            case "fn":
                return f"{fn}({target}, {self.lambda_(args[0], call.name)}, {pos})"
            case "re":
                regex = args[0]
                if isinstance(regex, Literal):
                    compiled = self.const(methods.pattern(regex.value, regex.pos))
                else:
                    compiled = f"_pattern({self.code(regex)}, {self.pos(regex.pos)})"
                return f"{fn}({target}, {compiled}, {pos})"
        return f"{fn}({target}, {self.code(args[0])}, {pos})"

    def lambda_(self, node: Node, method: str) -> str:
        if not isinstance(node, Lambda):
            raise CqlError(TYPE, f"`.{method}` needs a lambda such as `x => x.name`", _at(node))
        if node.param in NAMESPACES or node.param in FUNCTIONS:
            raise CqlError(
                NAME, f"lambda parameter `{node.param}` hides a name CQL knows", node.pos
            )
        outer = self.scope
        self.scope = (*outer, node.param)
        try:
            return f"(lambda v_{node.param}: {self.code(node.body)})"
        finally:
            self.scope = outer


def _days(node: Node | None, default: int) -> int:
    """The days a `lookback=duration("...")` argument covers; a year when it is not a
    literal (the incident records are loaded before the rule runs)."""
    if node is None:
        return default
    if isinstance(node, Call) and node.name == "duration" and node.target is None:
        literal = node.args[0] if len(node.args) == 1 else None
        if isinstance(literal, Literal):
            span = abs(values.duration(literal.value, literal.pos))
            return span.days + (1 if span.seconds or span.microseconds else 0)
    return 365


def pushed_key(method: str) -> str:
    """`numOfIssues` -> `issues`, `getMonitors` -> `monitors`, `score` -> `score`."""
    for prefix in ("numOf", "get"):
        if method.startswith(prefix) and len(method) > len(prefix):
            method = method[len(prefix) :]
            break
    return method[0].lower() + method[1:]


def arg_pos(arg: Node, call: Call) -> Pos:
    return _at(arg) or call.pos


def _at(node: Node) -> Pos:
    return node.pos


def _listing(specs: Mapping[str, Spec]) -> str:
    return ", ".join(f"{name}()" for name in specs)


# Compiled rules ----------------------------------------------------------------------------

Fn = Callable[[Entity, str, Context, dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Verdict:
    """A rule's outcome for one entity: PASS, FAIL, NEEDS (a source not configured or not
    reported yet: `needs` names it) or ERROR (a type error or a limit, at a position)."""

    status: str
    reason: str
    captures: Mapping[str, Any] = field(default_factory=dict)
    needs: str = ""


@dataclass(frozen=True, slots=True)
class _Part:
    """One `&&` operand of the rule: a comparison (`left op right`) or any expression."""

    node: Node
    left: Fn
    op: str = ""
    right: Fn | None = None
    said: str = ""  # how a reason names the part (or its left side), written once
    present: str = ""  # for `source != null`: the reason when it is there ("has a ...")
    absent: str = ""  # and when it is not ("no ...")


_OPS: dict[str, Callable[[Any, Any, Pos], bool]] = {
    "==": lambda a, b, p: values.equal(a, b),
    "!=": lambda a, b, p: not values.equal(a, b),
    "<": values.less,
    "<=": values.less_equal,
    ">": values.greater,
    ">=": values.greater_equal,
}
_NO_CAPTURES: Mapping[str, Any] = {}
_SCRATCH: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A CQL expression made ready: evaluate it for any number of entities."""

    expression: str
    tree: Node
    parts: tuple[_Part, ...]
    sources: frozenset[str]  # GITHUB, SONARQUBE, ONCALL, PUSHED it reads
    facts: frozenset[str]  # fact keys it reads, as far as literals tell
    captures: bool  # whether it calls captures()
    lookback_days: int = 0  # days of our incidents it reads (RECORDS in sources)
    namespaces: frozenset[str] = frozenset()  # those it reads as values: `git != null`

    def evaluate(self, entity: Entity, context: Context, ref: str = "") -> Verdict:
        """The outcome for one entity; `ref` is its ref when the caller has it at hand
        (computing it again for each of a scorecard's rules would cost more than most)."""
        # a rule without captures() never writes to `cap`: one shared dict serves them all
        cap: dict[str, Any] = {} if self.captures else _SCRATCH
        ref = ref or entity.ref
        try:
            for part in self.parts:
                ok, reason = _judge(part, entity, ref, context, cap)
                if not ok:
                    return Verdict(FAIL, reason, cap or _NO_CAPTURES)
        except data.Needs as needs:
            return Verdict(NEEDS, needs.reason, cap or _NO_CAPTURES, needs.source)
        except CqlError as error:
            return Verdict(ERROR, str(error), cap or _NO_CAPTURES)
        return Verdict(PASS, reason, cap or _NO_CAPTURES)


def _judge(
    part: _Part, entity: Entity, ref: str, context: Context, cap: dict[str, Any]
) -> tuple[bool, str]:
    if part.right is None:
        value = part.left(entity, ref, context, cap)
        ok = values.truth(value, "a rule", part.node.pos)
        return ok, f"{part.said} is {values.show(value)}"
    left, right = part.left(entity, ref, context, cap), part.right(entity, ref, context, cap)
    node = part.node
    assert isinstance(node, Binary)
    ok = _OPS[part.op](left, right, node.pos)
    if isinstance(node.right, Literal) and node.right.value is None:
        if part.present:
            return ok, part.present if left is not None else part.absent
        return ok, f"{part.said} is {'set' if left is not None else 'null'}"
    shown = f"{part.said} is {values.show(left)}"
    return ok, shown if ok else f"{shown}, must be {part.op} {values.show(right)}"


# what `x != null` asks of each data namespace, as a reason tells it
_NOUNS = {
    "git": "a GitHub repository",
    "sonarqube": "a SonarQube project",
    "oncall": "an on-call",
    "slack": "a Slack channel",
    "ownership": "an owner",
}


def _said(node: Node) -> str:
    """How a reason names a value: a captured one by what it captures."""
    if isinstance(node, Call) and node.target is None and node.name == "captures":
        return text(node.args[-1])
    return text(node)


@functools.cache
def shared_jq() -> JqWorker:
    """The process's jq worker (its process starts on the first jq() run)."""
    return JqWorker()


def compile_rule(expression: str, jq: JqWorker | None = None) -> CompiledRule:
    """Parse and compile once; `CqlError` (kind, message, position) when it cannot be.

    `jq` runs `jq(...)` programs: the process's shared worker unless one is given."""
    tree = parse(expression)
    gen = _Gen(jq or shared_jq())
    operands = tree.operands if isinstance(tree, Logic) and tree.op == "&&" else (tree,)
    parts = tuple(_part(gen, node) for node in operands)
    return CompiledRule(
        expression,
        tree,
        parts,
        frozenset(gen.sources),
        frozenset(gen.facts),
        "captures" in expression,
        gen.lookback,
        frozenset(gen.bare),
    )


def _part(gen: _Gen, node: Node) -> _Part:
    if isinstance(node, Binary) and node.op in _OPS:
        left, right = _function(gen, node.left), _function(gen, node.right)
        noun = _NOUNS.get(node.left.name, "") if isinstance(node.left, Name) else ""
        absent = "no " + noun.split(" ", 1)[1] if noun else ""
        return _Part(node, left, node.op, right, _said(node.left), noun and f"has {noun}", absent)
    return _Part(node, _function(gen, node), said=text(node))


def _function(gen: _Gen, node: Node) -> Fn:
    body = gen.code(node)
    source = f"def _rule(e, r, c, cap):\n    return {body}\n"
    scope: dict[str, Any] = {"__builtins__": {}, **_HELPERS, **gen.consts}
    exec(compile(source, "<cql>", "exec"), scope)
    rule: Fn = scope["_rule"]
    return rule


# What `switchboard scorecards check` tells of a rule.
EVALUABLE, NEEDS_SOURCES, UNSUPPORTED_RULE = "evaluable", "needs", "unsupported"


@dataclass(frozen=True, slots=True)
class Status:
    status: str  # EVALUABLE, NEEDS_SOURCES or UNSUPPORTED_RULE
    needs: tuple[str, ...] = ()  # sources not configured, when NEEDS_SOURCES
    reason: str = ""


def status(
    expression: str, configured: Collection[str], file: str = "", line: int = 0, column: int = 0
) -> Status:
    """Whether a rule can be evaluated with these sources configured (GITHUB...); PUSHED
    and ONCALL are always there (they come from the catalog and from what teams push)."""
    try:
        rule = compile_rule(expression)
    except CqlError as error:
        return Status(UNSUPPORTED_RULE, (), error.located(expression, file, line, column))
    have = {*configured, *ALWAYS}
    missing = tuple(sorted(s for s in rule.sources if s not in have))
    if missing:
        return Status(NEEDS_SOURCES, missing, needed(missing))
    return Status(EVALUABLE)


def needed(sources: Collection[str]) -> str:
    """What a rule reading these sources (not configured) needs, with what to set:
    "needs GitHub (set GITHUB_TOKEN)"."""
    named = [
        f"{SOURCE_LABELS.get(s, s)} (set {SOURCE_SETTINGS[s]})"
        if s in SOURCE_SETTINGS
        else SOURCE_LABELS.get(s, s)
        for s in sorted(sources)
    ]
    return "needs " + ", ".join(named)


# Sources there whatever is configured: the catalog's on-call, what teams push, our records.
ALWAYS = frozenset({PUSHED, ONCALL, RECORDS, DEPENDENTS})

SOURCE_LABELS = {
    GITHUB: "GitHub",
    SONARQUBE: "SonarQube",
    ONCALL: "on-call",
    PUSHED: "pushed facts",
    DEPENDENTS: "the catalog",
}
# What to set for a source to be configured, as `needs ... (set ...)` tells it.
SOURCE_SETTINGS = {
    GITHUB: "GITHUB_TOKEN",
    SONARQUBE: "SONARQUBE_URL and SONARQUBE_TOKEN",
}


def value_of(expression: str, entity: Entity, context: Context) -> Any:
    """The value of any CQL expression (not only a rule's boolean), for tests and for
    showing what an expression reads; raises `Needs` and `CqlError` as they come."""
    gen = _Gen(shared_jq())
    return _function(gen, parse(expression))(entity, entity.ref, context, {})
