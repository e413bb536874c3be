"""SlackPager with a recording `post`."""

from __future__ import annotations

import pytest

from switchboard.bot.catalog.model import OnCall
from switchboard.bot.paging import PageReceipt, PagingError, SlackPager
from switchboard.bot.platform.slack_gateway import SlackFailure
from tests.paging.helpers import page


class Recorder:
    """A `post` that keeps what it was asked to post and answers with a ts."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []

    async def __call__(self, channel_id: str, text: str) -> str:
        self.posts.append((channel_id, text))
        return f"1700000000.00000{len(self.posts)}"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def pager(recorder: Recorder) -> SlackPager:
    return SlackPager(recorder)


async def test_a_usergroup_id_is_pinged_and_the_title_escaped(
    pager: SlackPager, recorder: Recorder
) -> None:
    target = OnCall("slack", "usergroup", "S0ONCALL")
    receipt = await pager.trigger(page(target, title="<!channel> db & cache <@U1>"))

    assert receipt == PageReceipt("slack", "1700000000.000001")
    [(channel, text)] = recorder.posts
    assert channel == "C0INC42"
    assert text == (
        "<!subteam^S0ONCALL> you are paged for *INC-42* (SEV1, Payments API): "
        "&lt;!channel&gt; db &amp; cache &lt;@U1&gt;"
    )


async def test_a_user_id_is_pinged(pager: SlackPager, recorder: Recorder) -> None:
    await pager.trigger(page(OnCall("slack", "user", "U0ALICE")))
    assert recorder.posts[0][1].startswith("<@U0ALICE> you are paged")


@pytest.mark.parametrize("handle", ["@team-oncall", "team-oncall"])
async def test_a_handle_is_named_without_a_ping(
    pager: SlackPager, recorder: Recorder, handle: str
) -> None:
    await pager.trigger(page(OnCall("slack", "usergroup", handle)))
    text = recorder.posts[0][1]
    assert text.startswith("@team-oncall you are paged")
    assert "<" not in text


async def test_acknowledge_and_resolve_post_nothing(pager: SlackPager, recorder: Recorder) -> None:
    sent = page(OnCall("slack", "usergroup", "S0ONCALL"))
    receipt = await pager.trigger(sent)
    await pager.acknowledge(sent, receipt)
    await pager.resolve(sent, receipt)
    assert len(recorder.posts) == 1


@pytest.mark.parametrize("retryable", [True, False])
async def test_a_failed_post_is_a_paging_error(retryable: bool) -> None:
    async def broken(channel_id: str, text: str) -> str:
        raise SlackFailure("chat.postMessage", "channel_not_found", retryable)

    with pytest.raises(PagingError) as raised:
        await SlackPager(broken).trigger(page(OnCall("slack", "usergroup", "S0ONCALL")))
    assert raised.value.retryable is retryable
    assert str(raised.value) == (
        "Could not post the page in the incident channel (channel_not_found)"
    )
