"""`switchboard catalog import|check|show` against a real database: all or nothing,
idempotent, and removing what disappeared from its source."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from switchboard.cli import main
from tests.conftest import EXAMPLES

SERVICE = """\
switchboard: 1
services:
  - id: checkout
    name: Checkout
    owner: shop
    tier: 2
  - id: basket
    name: Basket
    owner: shop
teams:
  - id: shop
    name: Shop
    slack_channel: "#shop"
"""


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    for name in ("SWITCHBOARD_CATALOG", "SWITCHBOARD_CONFIG", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def show(capsys: pytest.CaptureFixture[str], name: str) -> dict[str, object]:
    code, out, err = run(capsys, "catalog", "show", name, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def test_import_is_idempotent(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text(SERVICE)
    first = run(capsys, "catalog", "import", "catalog.yaml")
    assert first == (
        0,
        "imported 3 entities from 1 files: 3 added, 0 updated, 0 removed, 0 unchanged\n",
        "",
    )
    again = run(capsys, "catalog", "import", "catalog.yaml")
    assert (
        again[1] == "imported 3 entities from 1 files: 0 added, 0 updated, 0 removed, 3 unchanged\n"
    )


def test_changed_and_removed_entities(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(SERVICE)
    run(capsys, "catalog", "import", str(tmp_path))
    catalog.write_text(
        SERVICE.replace("tier: 2", "tier: 1").replace(
            "  - id: basket\n    name: Basket\n    owner: shop\n", ""
        )
    )
    code, out, _ = run(capsys, "catalog", "import", str(tmp_path))
    assert (code, out) == (
        0,
        "imported 2 entities from 1 files: 0 added, 2 updated, 1 removed, 0 unchanged\n",
    )
    assert show(capsys, "checkout")["entity"]["tier"] == 1  # type: ignore[index]
    code, _, err = run(capsys, "catalog", "show", "basket")
    assert code == 1
    assert "basket" not in err.lower() or "found no service" in err


def test_deleting_a_file_from_an_imported_folder_removes_its_entities(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "catalog"
    shutil.copytree(EXAMPLES, folder)
    run(capsys, "catalog", "import", str(folder))
    (tmp_path / "other.yaml").write_text(SERVICE)
    run(capsys, "catalog", "import", str(tmp_path / "other.yaml"))
    (folder / "services.yaml").unlink()
    code, out, err = run(capsys, "catalog", "import", str(folder))
    assert code == 0, err
    assert " 9 removed" in out
    assert show(capsys, "checkout")["entity"]["name"] == "checkout"  # type: ignore[index]


def test_an_error_changes_nothing_and_is_reported_with_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "good.yaml").write_text(SERVICE)
    run(capsys, "catalog", "import", "good.yaml")
    (tmp_path / "good.yaml").write_text(SERVICE.replace("tier: 2", "tier: 9000"))
    (tmp_path / "bad.yaml").write_text("switchboard: 1\nservices:\n  - id: x\n    tier: [\n")
    code, out, err = run(capsys, "catalog", "import", "good.yaml", "bad.yaml")
    assert code == 1
    assert out == ""
    assert err.splitlines()[0].startswith("bad.yaml:5: invalid YAML")
    assert "good.yaml:6: services[0].tier: expected a tier" in err
    assert err.endswith("catalog unchanged: 2 error(s)\n")
    assert show(capsys, "checkout")["entity"]["tier"] == 2  # type: ignore[index]


def test_warnings_are_printed_and_the_rest_imported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "c.yaml").write_text(SERVICE.replace("owner: shop", "owner: nobody", 1))
    code, out, err = run(capsys, "catalog", "import", "c.yaml")
    assert code == 0
    assert "c.yaml:5: warning: owner group:default/nobody is not in the catalog" in err
    assert out.startswith("imported 3 entities")


def test_show_json_hides_integration_keys(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "catalog", "import", str(EXAMPLES))
    data = show(capsys, "payments-api")
    assert data["entity"]["title"] == "Payments API"  # type: ignore[index]
    assert [o["name"] for o in data["owners"]] == ["payments"]  # type: ignore[union-attr,index]
    assert "Ledger" in data["dependencies"]  # type: ignore[operator]


def test_every_shared_catalog_file_imports(
    capsys: pytest.CaptureFixture[str], real_catalogs: Path
) -> None:
    code, out, err = run(capsys, "catalog", "import", str(real_catalogs))
    assert code == 0, err
    assert out.startswith("imported 31 entities from 28 files")
    assert "Traceback" not in err
    assert show(capsys, "moneymouth")["entity"]["oncall"] == [  # type: ignore[index]
        {
            "provider": "pagerduty",
            "target_type": "schedule",
            "target_id": "12435",
            "integration_key": "",
        }
    ]


def test_check_reads_without_writing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(SERVICE)
    assert run(capsys, "catalog", "check", "c.yaml") == (0, "ok: 3 entities in 1 files\n", "")
    code, _, err = run(capsys, "catalog", "show", "checkout")
    assert code == 1
    assert "found no service called checkout" in err


def test_an_entity_added_as_another_is_removed_keeps_its_owner(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # SQLite gives the id of the row deleted (the last one) to the next row inserted: the new
    # entity's owner rows must still be its own.
    path = tmp_path / "catalog.yaml"
    path.write_text(SERVICE)
    assert run(capsys, "catalog", "import", "catalog.yaml")[0] == 0
    path.write_text(SERVICE.replace("id: basket\n    name: Basket", "id: till\n    name: Till"))
    code, out, err = run(capsys, "catalog", "import", "catalog.yaml")
    assert (code, out, err) == (
        0,
        "imported 3 entities from 1 files: 1 added, 0 updated, 1 removed, 2 unchanged\n",
        "",
    )
    team = show(capsys, "shop")
    assert sorted(s["name"] for s in team["owns"]) == ["checkout", "till"]  # type: ignore[union-attr]
