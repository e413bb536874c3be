"""The grammar: each expression and the tree it parses into, in `show`'s compact form."""

from __future__ import annotations

import pytest

from switchboard.bot.scorecards.cql.ast import Binary, Call, Literal, Logic, Name, Pos, show, text
from switchboard.bot.scorecards.cql.parser import parse

TREES = [
    # literals
    ("42", "42"),
    ("2.5", "2.5"),
    ("1e3", "1000.0"),
    ('"double"', "'double'"),
    ("'single'", "'single'"),
    (r"'it\'s'", '"it\'s"'),
    (r'"tab\there"', "'tab\\there'"),
    ("true", "true"),
    ("false", "false"),
    ("null", "null"),
    ('[1, "a", null]', "[1 'a' null]"),
    ("[]", "[]"),
    ("[1, 2,]", "[1 2]"),
    # names, members, calls
    ("git", "git"),
    ("git != null", "(!= git null)"),
    ('links("runbook").length > 0', "(> (. (links 'runbook') length) 0)"),
    ("entity.description()", "(entity.description)"),
    ("dependencies.in()", "(dependencies.in)"),
    ('custom("a")["b"]', "([] (custom 'a') 'b')"),
    (
        'git.numOfVulnerabilities(severity=["CRITICAL", "HIGH"]) == 0',
        "(== (git.numOfVulnerabilities severity=['CRITICAL' 'HIGH']) 0)",
    ),
    (
        'oncall.analysis(lookback = duration("P1W")).meanSecondsToFirstAck < 600',
        "(< (. (oncall.analysis lookback=(duration 'P1W')) meanSecondsToFirstAck) 600)",
    ),
    # lambdas
    ("xs.filter(x => x.name == 'a')", "(xs.filter (=> x (== (. x name) 'a')))"),
    ("xs.any((x) => x > 1)", "(xs.any (=> x (> x 1)))"),
    (
        "xs.map(x => x.tags.any(t => t == 'a'))",
        "(xs.map (=> x ((. x tags).any (=> t (== t 'a')))))",
    ),
    # operators and precedence
    ("!hasGroup('x')", "(! (hasGroup 'x'))"),
    ("!!a", "(! (! a))"),
    ("-1 - -2", "(- (- 1) (- 2))"),
    ("1 + 2 * 3", "(+ 1 (* 2 3))"),
    ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
    ("10 % 3 / 2", "(/ (% 10 3) 2)"),
    ("a && b && c", "(&& a b c)"),
    ("a || b && c", "(|| a (&& b c))"),
    ("(a || b) && c", "(&& (|| a b) c)"),
    ("a && b || c && d", "(|| (&& a b) (&& c d))"),
    ("a == 1 && b >= 2.5", "(&& (== a 1) (>= b 2.5))"),
    ("a < b + 1", "(< a (+ b 1))"),
    # comments and lines
    ("/* why */ oncall != null", "(!= oncall null)"),
    ("git != null &&\n  /* and */\n  sonarqube != null", "(&& (!= git null) (!= sonarqube null))"),
]


@pytest.mark.parametrize(("expression", "tree"), TREES)
def test_an_expression_parses_into_its_tree(expression: str, tree: str) -> None:
    assert show(parse(expression)) == tree


def test_nodes_keep_their_position_on_every_line() -> None:
    node = parse('git != null &&\n  hasGroup("x")')
    assert isinstance(node, Logic)
    second = node.operands[1]
    assert isinstance(second, Call)
    assert second.pos == Pos(2, 3)
    first = node.operands[0]
    assert isinstance(first, Binary) and first.pos == Pos(1, 5)


def test_the_tree_is_typed() -> None:
    node = parse("a > 1")
    assert node == Binary(">", Name("a", Pos(1, 1)), Literal(1, Pos(1, 5)), Pos(1, 3))


@pytest.mark.parametrize(
    "expression",
    [
        'links("runbook").length > 0',
        'git.numOfVulnerabilities(severity=["CRITICAL", "HIGH"]) == 0',
        "xs.filter(x => x.n > 1).length >= 2 && !(a || b)",
    ],
)
def test_a_tree_written_back_parses_into_the_same_tree(expression: str) -> None:
    tree = parse(expression)
    assert show(parse(text(tree))) == show(tree)
