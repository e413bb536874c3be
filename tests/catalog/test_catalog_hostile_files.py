"""Catalog files from teams are read and nothing else: Locations and symbolic links never
lead out of the folder given, and messages quote at most a short, escaped piece of a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.catalog.test_catalog_import import environment, run  # noqa: F401  (fixture, helper)

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
    member = "\x1b]0;owned\x07" + "m" * 1900
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


# Alias amplification: a file may repeat with aliases at most ten times its own length in
# characters (at least a million), and a field holds at most 2,000 (a description 5,000).


def repeated_string(size: int, repeats: int) -> str:
    """One long string, repeated by aliases as a service's tags (one per line)."""
    return (
        "switchboard: 1\n"
        f"x-big: &big {'x' * size}\n"
        "services:\n  - id: a\n    tags:\n" + "      - *big\n" * repeats
    )


def limit_message(line: int, limit: int) -> str:
    return (
        f"c.yaml:{line}: aliases here repeat more than {limit:,} characters, this file's limit "
        "(10 times its length, at least 1,000,000)\n"
    )


def test_aliases_repeating_one_long_string_stop_at_the_alias_past_the_limit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = repeated_string(100_000, 20_000)  # 2 GB once expanded: 32 s and 4 GB, then failed
    (tmp_path / "c.yaml").write_text(text)
    # Stopped at the 37th alias, past 10 x 380,058 characters: what follows is not counted.
    message = limit_message(42, 10 * len(text))
    assert run(capsys, "catalog", "check", "c.yaml") == (1, "", message + "1 error(s)\n")
    code, out, err = run(capsys, "catalog", "import", "c.yaml")
    assert (code, out, err) == (1, "", message + "catalog unchanged: 1 error(s)\n")


def test_a_row_of_repeated_tags_is_refused_and_the_previous_catalog_stays(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "c.yaml").write_text("switchboard: 1\nservices:\n  - id: a\n    tags: [kept]\n")
    assert run(capsys, "catalog", "import", "c.yaml")[0] == 0
    (tmp_path / "c.yaml").write_text(repeated_string(50_000, 4_000))  # a 200 MB row, once
    code, _, err = run(capsys, "catalog", "import", "c.yaml")
    assert (code, err) == (1, limit_message(26, 1_020_580) + "catalog unchanged: 1 error(s)\n")
    code, out, _ = run(capsys, "catalog", "show", "a")
    assert code == 0 and "tags: ['kept']" in out


def test_nested_aliases_are_refused_even_where_nothing_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = ["switchboard: 1", f"x-l0: &l0 {'y' * 80_000}"]  # then lists of ten of the last
    lines += [f"x-l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 7)]
    (tmp_path / "c.yaml").write_text("\n".join(lines) + "\n")  # 80 GB once expanded
    assert run(capsys, "catalog", "check", "c.yaml") == (
        1,
        "",
        limit_message(4, 1_000_000) + "1 error(s)\n",
    )


def test_anchors_used_as_defaults_in_a_big_catalog_still_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    defaults = "{tier: 2, lifecycle: production, oncall: {pagerduty_schedule: PSCHEDULE1}}"
    entries = "".join(f"  - {{<<: *defaults, id: service-{n}}}\n" for n in range(5_000))
    (tmp_path / "c.yaml").write_text(
        f"switchboard: 1\nx-defaults: &defaults {defaults}\nservices:\n{entries}"
    )
    assert run(capsys, "catalog", "check", "c.yaml") == (0, "ok: 5000 entities in 1 files\n", "")


def test_a_field_holds_at_most_its_documented_length(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "c.yaml").write_text(
        "switchboard: 1\n"
        f"x-long: &long {'d' * 5_001}\n"
        "services:\n"
        f"  - id: a\n    description: {'d' * 5_000}\n    tags: [{'t' * 2_000}]\n"
        f"  - id: b\n    description: *long\n    tags: [ok, {'t' * 2_001}]\n"
    )
    code, _, err = run(capsys, "catalog", "check", "c.yaml")
    assert (code, err) == (
        1,
        "c.yaml:8: services[1].description: 5,001 characters, more than the 5,000 allowed\n"
        "c.yaml:9: services[1].tags[1]: 2,001 characters, more than the 2,000 allowed\n"
        "2 error(s)\n",
    )


def test_a_field_longer_than_its_column_is_an_error_not_a_failed_write(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "c.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\n"
        f"spec:\n  type: {'t' * 65}\n"
    )
    code, _, err = run(capsys, "catalog", "import", "c.yaml")
    assert (code, err) == (
        1,
        f"c.yaml:1: component:default/a: its type '{'t' * 37}...' "
        "has 65 characters, more than the 64 allowed\ncatalog unchanged: 1 error(s)\n",
    )
