"""bin/setup (which bin/run and bin/test run first) installs only when pyproject.toml changed
since the last install, and keeps pip's and setuptools' chatter out of the output unless
pip fails. Run on a copy of the script, with a stand-in `.venv/bin/python` that records
what it is asked and talks the way pip's build does."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

WARNING_BLOCK = """\
  !!
          ********************************************************************************
          Please be careful with folders in your working directory with the same
          name as your package as they may take precedence during imports.
          ********************************************************************************
  !!
"""
FAKE_PYTHON = f"""#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/../../calls"
cat >&2 <<'TXT'
{WARNING_BLOCK}TXT
[ -f "$(dirname "$0")/../../pip-fails" ] && {{ echo "ERROR: no network" >&2; exit 1; }}
exit 0
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "bin").mkdir()
    shutil.copy(ROOT / "bin" / "setup", tmp_path / "bin" / "setup")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "switchboard"\n')
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tmp_path


def setup(checkout: Path, *args: str) -> tuple[int, list[str], str]:
    """bin/setup's exit code, the pip commands it ran, and what it printed."""
    calls = checkout / "calls"
    calls.unlink(missing_ok=True)
    done = subprocess.run(
        ["bash", str(checkout / "bin" / "setup"), *args], capture_output=True, text=True
    )
    ran = calls.read_text().splitlines() if calls.exists() else []
    return done.returncode, ran, done.stdout + done.stderr


def test_it_installs_once_until_pyproject_changes(checkout: Path) -> None:
    code, ran, said = setup(checkout)
    assert code == 0
    assert ran == [
        "-m pip install --quiet --upgrade pip",
        "-m pip install --quiet --editable .",
    ]
    assert said == "bin/setup: installing Switchboard into .venv (pyproject.toml changed)\n"
    assert setup(checkout) == (0, [], "")  # nothing changed: no pip at all
    # dev wants more than that install had; after it, a plain setup has all it needs.
    code, ran, _ = setup(checkout, "dev")
    assert (code, ran[-1]) == (0, "-m pip install --quiet --editable .[dev]")
    assert setup(checkout) == (0, [], "")
    assert setup(checkout, "dev") == (0, [], "")
    (checkout / "pyproject.toml").write_text('[project]\nname = "switchboard"\n# a dependency\n')
    code, ran, _ = setup(checkout)
    assert (code, len(ran)) == (0, 2)


def test_a_failed_install_shows_pip_s_output_and_is_tried_again(checkout: Path) -> None:
    (checkout / "pip-fails").touch()
    code, _, said = setup(checkout)
    assert code == 1
    assert "ERROR: no network" in said
    assert said.endswith("bin/setup: pip failed (above)\n")
    (checkout / "pip-fails").unlink()
    code, ran, _ = setup(checkout)
    assert (code, len(ran)) == (0, 2)
