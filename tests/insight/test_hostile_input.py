"""Whatever is typed after `/incident stats` or `/incident started`: a scope, a moment, or
a refusal whose message smuggles nothing (no mention, link or date from the text)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from switchboard.bot.incidents.impact_time import BadMoment, parse_moment
from switchboard.bot.insight.service import MAX_DAYS, Unclear, parse_asked
from switchboard.bot.platform.config import Config
from tests.security.conftest import FAST
from tests.security.slack_checks import hostile_piece, smuggled

WORDS = [
    "chart", "30", "0", "3661", "service:", "service:checkout", "team:shop", "team:", "sev:1",
    "sev:SEV2", "yesterday", "today", "14:05", "24:00", "2026-03-29", "2026-13-01", "T", ":",
    "\u00b2", "\u0663\u0660", "\uff11\uff12:\uff10\uff10",  # digits int() may or may not take
]  # fmt: skip
typed = st.lists(st.one_of(st.sampled_from(WORDS), hostile_piece), max_size=6).map(" ".join)
BERLIN = Config(timezone="Europe/Berlin").tz
NOW = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)


@FAST
@given(typed)
def test_stats_words_parse_or_explain(text: str) -> None:
    try:
        asked = parse_asked(text)
    except Unclear as unclear:
        assert str(unclear) and smuggled(str(unclear)) == []
        return
    assert 1 <= asked.days <= MAX_DAYS
    assert not (asked.service and asked.team)


@FAST
@given(typed)
def test_started_parses_or_explains(text: str) -> None:
    try:
        moment = parse_moment(text, BERLIN, NOW)
    except BadMoment as bad:
        assert str(bad) and smuggled(str(bad)) == []
        return
    assert moment.tzinfo is not None and moment.utcoffset() == UTC.utcoffset(None)
