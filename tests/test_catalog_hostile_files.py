"""Catalog files from teams are read and nothing else: Locations and symbolic links never
lead out of the folder given, and messages quote at most a short, escaped piece of a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_catalog_import import environment, run  # noqa: F401  (fixture, helper)

TOKEN = "xoxb-1234567890-SECRET-TOKEN"
COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  owner: team-x
"""


def location(*targets: str) -> str:
    listed = "".join(f"    - {target}\n" for target in targets)
    return (
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: all\n"
        f"spec:\n  targets:\n{listed}"
    )


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    """Files beside the catalog that no import may read: a .env and a catalog-like file whose
    name is a token (read, it would be an entity or an error quoting it)."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / ".env").write_text(f"SLACK_BOT_TOKEN={TOKEN}\n")
    (folder / "catalog-info.yaml").write_text(COMPONENT.format(name=TOKEN))
    return folder


def test_location_targets_outside_the_imported_folder_are_named_and_never_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, secrets: Path
) -> None:
    catalog = tmp_path / "catalog"
    (catalog / "services").mkdir(parents=True)
    (catalog / "services" / "a.yaml").write_text(COMPONENT.format(name="a"))
    (catalog / "all.yaml").write_text(
        location(
            "./services/a.yaml",
            "../../../../../../../../etc/passwd",
            "../secrets/.env",
            "./services/../../secrets/catalog-info.yaml",
            "../**/*.yaml",
        )
    )
    code, out, err = run(capsys, "catalog", "check", "catalog")
    assert (code, out) == (0, "ok: 1 entities in 2 files\n")
    assert err.splitlines() == [
        f"catalog/all.yaml:{line}: warning: Location target {target} is outside the imported "
        "folder, not read"
        for line, target in [
            (8, "../../../../../../../../etc/passwd"),
            (9, "../secrets/.env"),
            (10, "./services/../../secrets/catalog-info.yaml"),
            (11, "../**/*.yaml"),
        ]
    ] + ["catalog/services/a.yaml:6: warning: owner group:default/team-x is not in the catalog"]
    assert TOKEN not in err and "root:" not in err


def test_a_location_given_as_a_file_reaches_only_its_own_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, secrets: Path
) -> None:
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "all.yaml").write_text(location("../secrets/catalog-info.yaml"))
    code, out, err = run(capsys, "catalog", "import", "team/all.yaml")
    assert code == 0
    assert out.startswith("imported 0 entities from 1 files")
    assert err == (
        "team/all.yaml:7: warning: Location target ../secrets/catalog-info.yaml is outside "
        "the imported folder, not read\n"
    )


def test_symbolic_links_out_of_the_folder_are_not_followed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, secrets: Path
) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.yaml").write_text(COMPONENT.format(name="a"))
    os.symlink(secrets / "catalog-info.yaml", catalog / "linked.yaml")  # a file out
    os.symlink(secrets, catalog / "linked-folder")  # a folder out
    os.symlink(catalog / "a.yaml", catalog / "same.yaml")  # in: read, once
    (catalog / "all.yaml").write_text(
        location("./linked.yaml", "./linked-folder/catalog-info.yaml", "./same.yaml")
    )
    code, out, err = run(capsys, "catalog", "check", "catalog")
    assert (code, out) == (0, "ok: 1 entities in 2 files\n")
    assert err.splitlines() == [
        "catalog/a.yaml:6: warning: owner group:default/team-x is not in the catalog",
        "catalog/all.yaml:7: warning: Location target ./linked.yaml is outside the imported "
        "folder, not read",
        "catalog/all.yaml:8: warning: Location target ./linked-folder/catalog-info.yaml is "
        "outside the imported folder, not read",
        "catalog/linked-folder:1: warning: a symbolic link leading out of the imported folder, "
        "not read",
        "catalog/linked.yaml:1: warning: a symbolic link leading out of the imported folder, "
        "not read",
    ]
    assert TOKEN not in err


def test_a_file_that_is_no_catalog_is_not_quoted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "settings.yaml").write_text(f"SLACK_BOT_TOKEN={TOKEN}\n")
    code, _, err = run(capsys, "catalog", "check", "settings.yaml")
    assert (code, err) == (
        1,
        "settings.yaml:1: a catalog document must be a mapping, got text\n1 error(s)\n",
    )


def test_messages_quote_a_short_escaped_piece_of_a_value(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    long_key = "k" * 1000 + "\x1b[2J"  # YAML keys stop at 1024 characters
    member = "\x1b]0;owned\x07" + "m" * 5000
    (tmp_path / "c.yaml").write_text(
        "switchboard: 1\n"
        f'teams:\n  - id: t\n    "{long_key}": 1\n'
        f'    members: ["{member}"]\n'.replace("\x1b", "\\e").replace("\x07", "\\a")
    )
    code, _, err = run(capsys, "catalog", "check", "c.yaml")
    assert code == 1
    warning, error, summary = err.splitlines()
    assert summary == "1 error(s)"
    assert warning == f"c.yaml:4: warning: teams[0].{'k' * 288}..."
    assert error == (
        "c.yaml:5: teams[0].members[0]: '\\x1b]0;owned\\x07mmmmmmmmmmmmmmmmmmmmmmmmmmm...' "
        "is not a person in people:, a Slack user id (U…) or an e-mail address"
    )
    assert "\x1b" not in err and "\x07" not in err
