"""A private PostgreSQL cluster for one test, which the test may stop and start: never the
machine's shared server. Run as the `postgres` OS user (we may be root)."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.faults.processes import free_port

PG_BIN = Path(os.environ.get("SWITCHBOARD_PG_BIN", "/usr/lib/postgresql/15/bin"))


def unavailable() -> str:
    """Why a private cluster cannot be run here; "" when it can."""
    if not (PG_BIN / "initdb").exists():
        return f"no PostgreSQL binaries in {PG_BIN} (set SWITCHBOARD_PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run PostgreSQL as"
        if not shutil.which("runuser"):
            return "running as root without runuser"
    return ""


def skip_unless_available() -> None:
    reason = unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the database outage tests: {reason}")
        pytest.skip(reason)


class PrivatePostgres:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="switchboard-pg-"))
        self.port = free_port()
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    async def _run(self, *args: str) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await process.communicate()
        assert process.returncode == 0, out.decode()

    async def init(self) -> None:
        await self._run(
            "initdb", "-D", str(self.folder / "data"), "-U", "postgres", "-A", "trust", "-N"
        )

    async def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        await self._run(
            "pg_ctl",
            "-D",
            str(self.folder / "data"),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )

    async def stop(self) -> None:
        await self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    async def remove(self) -> None:
        if (self.folder / "data" / "postmaster.pid").exists():
            await self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
