"""The App Home's key numbers: the viewer's teams over the last 28 days, public incidents
only (worked out by hand from tests/insight/history.py)."""

from __future__ import annotations

from tests.incidents.conftest import ALICE, DAVE, World
from tests.incidents.test_home import home_of, section
from tests.insight.history import SECRET, seed


async def test_the_viewers_teams_at_a_glance(world: World) -> None:
    await seed(world)
    home = await home_of(world, ALICE)  # Alice is in Shop
    # 5 Oct 12:00 to 2 Nov 12:00: INC-2 and INC-3 (2 h and 4 h to resolve), the private INC-4
    # left out; deploys d1 (followed by INC-2), d2, d3 (failed): 2 of 3; follow-ups due 28
    # Oct (on time), 29 Oct (late), 31 Oct (open): 1 of 3
    assert section(home, "Your teams, last 28 days") == (
        "• *Shop*: 2 incidents, median to resolve 3 h, change failure rate 67% (low), "
        "follow-ups on time 33%"
    )
    assert SECRET not in str(home.payload)
    nobody = await home_of(world, DAVE)  # in no team: no such section
    headers = [b["text"]["text"] for b in nobody.payload["blocks"] if b["type"] == "header"]
    assert "Your teams, last 28 days" not in headers
