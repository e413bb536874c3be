"""Whatever is typed after `/incident`, `/incident followup` or `/owner`
(and `/scorecard`, which reads the same grammar), the parsers give a request or a message
for the user; they never raise anything else, and their messages echo nothing unescaped."""

from __future__ import annotations

from typing import get_args

from hypothesis import given
from hypothesis import strategies as st

from switchboard.bot.catalog.reader import QueryKind, parse_owner_text
from switchboard.bot.incidents import commands, followup_messages
from switchboard.bot.platform.config import IncidentsConfig
from tests.security.conftest import FAST
from tests.security.slack_checks import hostile_piece, smuggled

CONFIG = IncidentsConfig()
# Words that steer the grammars somewhere: verbs, options, ids, mentions, numbers.
GRAMMAR = [
    "declare", "status", "severity", "assign", "resolve", "close", "page", "update", "note",
    "timeline", "postmortem", "followup", "followups", "stats", "list", "help", "?", "sev1",
    "SEV2", "sev-9", "service:", "service:checkout", "INC-1", "inc12", "#3", "INC-9999999999",
    "commander", "scribe", "nobody", "identified", "resolved", "team:", "team:shop",
    "due:2026-12-01", "due:2026-02-30", "due:", "due:tomorrow", "<@U0001ALICE>",
    "<@U0001BOB|bob>", "<!subteam^S1|@web>", "@web", "@", "0", "-1", "3660", "3661", "99",
]  # fmt: skip
word = st.one_of(st.sampled_from(GRAMMAR), hostile_piece)
typed = st.one_of(
    st.lists(word, max_size=8).map(" ".join),
    st.lists(word, max_size=8).map("".join),
    st.text(),
)


@FAST
@given(typed)
def test_incident_commands_parse_or_explain(text: str) -> None:
    command = commands.parse(text, CONFIG)
    match command:
        case commands.Invalid(message):
            assert message and smuggled(message) == []
        case commands.Declare(title, severity, _):
            assert title.strip() and CONFIG.severity(severity) is not None
        case commands.Act(action, number, _, user):
            assert action in commands.ACTIONS
            assert number is None or number >= 0
            assert action != "assign" or user
        case commands.Record(verb, _, _):
            assert verb in commands.RECORDS
        case _:
            assert isinstance(
                command, commands.Help | commands.ListOpen | commands.OpenDeclareModal
            )


@FAST
@given(typed)
def test_followup_grammar_gives_a_draft_or_says_which_field_is_wrong(text: str) -> None:
    try:
        draft = followup_messages.parse(text)
    except followup_messages.BadField as refused:
        assert refused.field in ("text", "due")
        assert str(refused) and smuggled(str(refused)) == []
        return
    assert draft.text.strip()
    assert not draft.owner_user or draft.owner_user.startswith(("U", "W"))


@FAST
@given(typed)
def test_owner_and_scorecard_queries_are_one_of_their_kinds(text: str) -> None:
    query = parse_owner_text(text)
    assert query.kind in get_args(QueryKind)
    assert (query.kind == "usage") == (query.value == "")
    assert query.value == query.value.strip()
