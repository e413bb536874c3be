"""`switchboard stats`: the measures `/incident stats` shows, as text, JSON or CSV, for a
team, a service, a severity, a window; bad options answered on stderr."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from switchboard.cli import main
from switchboard.storage import db
from switchboard.storage.tables import Incident, IncidentServiceLink
from tests.incidents.conftest import World
from tests.insight.history import CHECKOUT, SECRET
from tests.insight.test_stats_command import png_size


@pytest.fixture
async def recent(world: World) -> World:
    """Two incidents in the real last days (the command line runs on the real clock): a
    public SEV1 on checkout resolved in 2 h, a private SEV2 on checkout."""
    now = datetime.now(UTC).replace(microsecond=0)
    async with db.session_factory(world.sb.core.engine)() as session:
        for number, private, resolved in ((1, False, 2), (2, True, None)):
            declared = now - timedelta(days=2)
            row = Incident(
                number=number,
                request_key=f"cli:{number}",
                title=SECRET if private else "Checkout down",
                severity="SEV1" if not private else "SEV2",
                status="resolved" if resolved else "investigating",
                private=private,
                declared_by="U0001ALICE",
                declared_at=declared,
                resolved_at=declared + timedelta(hours=resolved) if resolved else None,
                last_update_at=declared,
            )
            session.add(row)
            await session.flush()
            session.add(IncidentServiceLink(incident_id=row.id, entity_ref=CHECKOUT, name="x"))
        await session.commit()
    return world


@pytest.fixture
def cli(recent: World, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name in ("SWITCHBOARD_CATALOG", "SWITCHBOARD_CONFIG", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_json_text_and_csv_say_the_same(cli: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert (found["response"]["incidents"], found["private_counted"]) == (2, 1)
    assert found["response"]["to_resolve"] == {
        "count": 1,
        "median_seconds": 7200,
        "p90_seconds": 7200,
    }
    assert [line["incidents"] for line in found["by_service"]] == [1]  # the public one
    assert main(["stats"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == (
        "2 incidents in the last 30 days (everyone), 1 of them private "
        "(counted here, in no breakdown)."
    )
    assert "  to resolve: median 2 h, p90 2 h (over 1)" in text
    assert main(["stats", "--csv", "--severity", "SEV2", "--days", "7"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["measure", "group", "value"]
    assert ["response.incidents", "", "1"] in rows
    assert SECRET.lower() not in (text + json.dumps(found)).lower()


def test_a_service_and_bad_options(cli: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--service", "checkout", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    # asked for a service: the private one is not counted (it would be attributed)
    assert (found["response"]["incidents"], found["scope"]["service"]) == (1, CHECKOUT)
    assert main(["stats", "--team", "nobody"]) == 2
    assert "No team called nobody." in capsys.readouterr().err
    assert main(["stats", "--since", "1999-01-01"]) == 2
    assert "--since must be 1 to 3660 days ago" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["stats", "--since", "yesterday"])
    assert "give a day as YYYY-MM-DD" in capsys.readouterr().err


def test_the_report_is_one_page_with_its_chart_inline(
    cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--team", "shop", "--weeks", "4", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}: 1 incident, team Shop\n"
    page = out.read_text()
    assert (
        page.startswith("<!doctype html>") and "<title>Incident insight: team Shop</title>" in page
    )
    start = page.index('src="data:image/png;base64,') + len('src="data:image/png;base64,')
    png = base64.b64decode(page[start : page.index('"', start)])
    assert png_size(png) == (800, 360)
    assert "Public incidents only" in page and SECRET not in page  # a file travels
    assert "<h2>DORA</h2>" in page and 'src="http' not in page  # nothing fetched elsewhere
    assert main(["report", "--out", str(tmp_path / "missing" / "r.html")]) == 1
    assert "cannot write" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--weeks", "0", "--out", str(out)])
