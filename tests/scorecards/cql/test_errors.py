"""What a user reads when an expression is wrong, or hostile: `file:line:col: message`, the
expression's line and a caret under the spot; bounded time and memory whatever the input."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from switchboard.bot.catalog.model import Entity
from switchboard.bot.scorecards.cql.compiler import ERROR, compile_rule
from switchboard.bot.scorecards.cql.context import FactTable, Snapshot
from switchboard.bot.scorecards.cql.errors import LIMIT, NAME, SYNTAX, TYPE, UNSUPPORTED, CqlError
from switchboard.bot.scorecards.cql.jqrun import JqWorker
from switchboard.bot.scorecards.cql.parser import MAX_DEPTH

SERVICE = Entity(kind="component", name="svc")


def error_of(expression: str) -> CqlError:
    with pytest.raises(CqlError) as caught:
        compile_rule(expression)
    return caught.value


LOCATED = [
    (
        'links("runbook").length >',
        SYNTAX,
        'rules.yaml:7:26: unexpected end of expression\n    links("runbook").length >\n'
        "                             ^",
    ),
    (
        "git != null && && oncall != null",
        SYNTAX,
        "rules.yaml:7:16: unexpected `&&`\n    git != null && && oncall != null\n"
        "                   ^",
    ),
    (
        'hasGroup("x") @ 1',
        SYNTAX,
        "rules.yaml:7:15: unexpected character '@'\n    hasGroup(\"x\") @ 1\n                  ^",
    ),
    ('links("runbook).length > 0', SYNTAX, None),
    (
        'lnks("runbook").length > 0',
        NAME,
        "rules.yaml:7:1: unknown function `lnks()` (did you mean `links`?)\n"
        '    lnks("runbook").length > 0\n    ^',
    ),
    (
        'git.fileExist("README.md")',
        NAME,
        "rules.yaml:7:5: `git.fileExist()` is not something we can evaluate "
        '(did you mean `fileExists`?)\n    git.fileExist("README.md")\n        ^',
    ),
    (
        "groups().lenght() > 0",
        NAME,
        None,
    ),
    (
        'git != null &&\n  sonarqube.metrc("coverage") > 50',
        NAME,
        "rules.yaml:8:13: `sonarqube.metrc()` is not something we can evaluate "
        '(did you mean `metric`?)\n      sonarqube.metrc("coverage") > 50\n'
        "                ^",
    ),
    (
        "/* Replace with your chaos engineering experiment tracking metric */",
        UNSUPPORTED,
        "rules.yaml:7:1: a placeholder comment, not a rule\n"
        "    /* Replace with your chaos engineering experiment tracking metric */\n    ^",
    ),
    (
        'git.branchProtection("main") != null',
        UNSUPPORTED,
        None,
    ),
    ('git.numOfVulnerabilities(severty=["HIGH"]) == 0', NAME, None),
    ('duration("one week") > duration("P1D")', TYPE, None),
    ("[1, 2].filter(1)", TYPE, None),
    ("x => x", TYPE, None),
]


@pytest.mark.parametrize(("expression", "kind", "shown"), LOCATED)
def test_an_error_says_where_and_what_with_a_caret(
    expression: str, kind: str, shown: str | None
) -> None:
    error = error_of(expression)
    assert error.kind == kind
    located = error.located(expression, "rules.yaml", 7)
    if shown is not None:
        assert located == shown
    # whatever the error, the caret sits under the position it names
    where, text, caret = located.split("\n")
    column = int(where.split(":")[2])
    assert caret.index("^") - 4 == column - 1
    assert text.strip()


def test_an_unknown_method_names_the_closest_known_ones() -> None:
    assert "did you mean `length`?" in error_of("groups().lenght() > 0").message


def test_a_type_error_at_run_time_names_the_type_and_the_spot() -> None:
    context = Snapshot(
        datetime(2026, 1, 1, tzinfo=UTC), FactTable({(SERVICE.ref, "custom.n"): "7"})
    )
    verdict = compile_rule('custom("n") > 5').evaluate(SERVICE, context)
    assert (verdict.status, verdict.reason) == (
        ERROR,
        '1:13: `>` cannot order string "7" against number 5',
    )


# Hostile input: refused quickly with a clear message.


def test_nesting_past_the_limit_is_refused() -> None:
    deep = "[" * (MAX_DEPTH + 5) + "1" + "]" * (MAX_DEPTH + 5)
    error = error_of(deep)
    assert (error.kind, error.message) == (LIMIT, f"nested deeper than {MAX_DEPTH} levels")
    assert error_of("!" * 5000 + "true").kind == LIMIT


def test_nesting_within_the_limit_compiles() -> None:
    compile_rule("[" * 20 + "1" + "]" * 20 + " != null")
    compile_rule(" && ".join(["true"] * 500))  # a flat chain is one level


def test_huge_input_is_refused() -> None:
    assert error_of("1" * 40 + " > 1").message == "number literal longer than 30 characters"
    assert error_of("9" * 20 + "e999 > 1").message.endswith("is too large")
    assert error_of('"' + "a" * 20_000 + '" != null').message == (
        "expression longer than 10000 characters"
    )


def test_a_catastrophic_regex_fails_within_its_time_bound() -> None:
    context = Snapshot(
        datetime(2026, 1, 1, tzinfo=UTC), FactTable({(SERVICE.ref, "custom.s"): "a" * 60 + "!"})
    )
    rule = compile_rule('custom("s").matches("(a|aa)+$")')
    started = time.monotonic()
    verdict = rule.evaluate(SERVICE, context)
    assert time.monotonic() - started < 2
    assert verdict.status == ERROR
    assert verdict.reason == "1:13: regular expression '(a|aa)+$' took longer than 0.05s"


def test_an_invalid_regex_is_an_error_when_compiled() -> None:
    assert error_of('"a".matches("(")').message.startswith("invalid regular expression '('")


def test_a_jq_program_that_never_ends_is_stopped() -> None:
    worker = JqWorker(timeout=0.5)
    try:
        rule = compile_rule('jq(1, "def f: f; f") == 1', worker)
        started = time.monotonic()
        verdict = rule.evaluate(SERVICE, Snapshot(datetime(2026, 1, 1, tzinfo=UTC)))
        assert time.monotonic() - started < 5
        assert (verdict.status, verdict.reason) == (
            ERROR,
            "1:1: jq(): the program ran longer than 0.5s",
        )
        # the worker comes back for the next rule
        again = compile_rule('jq(2, ". + 1") == 3', worker)
        assert again.evaluate(SERVICE, Snapshot(datetime(2026, 1, 1, tzinfo=UTC))).status == "pass"
    finally:
        worker.close()


def test_an_invalid_jq_program_is_an_error_when_compiled() -> None:
    error = error_of('jq(custom("x"), ".a |") != null')
    assert error.kind == TYPE and error.message.startswith("jq(): ")
