"""matplotlib is loaded by the first chart, not by every process that imports the bot: it
weighs some 30 MB that `serve` and every command would otherwise carry from the start."""

from __future__ import annotations

import subprocess
import sys


def test_the_bot_and_its_commands_import_without_matplotlib() -> None:
    probe = "import sys, switchboard.app, switchboard.cli; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
