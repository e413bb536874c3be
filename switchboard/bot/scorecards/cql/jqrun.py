"""`jq(value, program)`, run in a worker process under a deadline.

jq is a full language (`def f: f; f` never ends), and its C code cannot be interrupted
from Python, so programs run in a separate process that is killed when it overruns; its
memory is capped too. Results are kept by (program, input), so the many services that share
an input (often none at all) cost one run.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import OrderedDict
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import jq

from switchboard.bot.scorecards.cql.ast import Pos
from switchboard.bot.scorecards.cql.errors import LIMIT, TYPE, CqlError

JQ_TIMEOUT = 1.0  # seconds one program may run on one input
MAX_PROGRAM = 2000  # characters
MAX_OUTPUT = 1_000_000  # characters of JSON a program may return
MEMORY = 512 * 1024 * 1024  # bytes of address space the worker may use
_CACHED = 4096
STARTUP = 60.0  # seconds a new worker may take to start: not counted against a program


def check_program(program: Any, pos: Pos) -> str:
    """A literal jq program, checked once when the rule is compiled."""
    if not isinstance(program, str):
        raise CqlError(TYPE, "jq(): the program must be a string literal", pos)
    if len(program) > MAX_PROGRAM:
        raise CqlError(LIMIT, f"jq(): program longer than {MAX_PROGRAM} characters", pos)
    try:
        jq.compile(program)
    except ValueError as error:
        first = str(error).splitlines()[0] if str(error) else "invalid program"
        raise CqlError(TYPE, f"jq(): {first}", pos) from None
    return program


def _serve(conn: Connection) -> None:  # pragma: no cover - runs in the worker process
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    except (ImportError, ValueError, OSError):
        pass
    conn.send((True, "ready"))
    while True:
        program, text = conn.recv()
        try:
            outputs = jq.compile(program).input_text(text).all()
            result = json.dumps(outputs[0] if len(outputs) == 1 else outputs)
            conn.send((True, result if len(result) <= MAX_OUTPUT else None))
        except MemoryError:
            conn.send((False, "ran out of memory"))
        except Exception as error:
            conn.send((False, (str(error).splitlines() or ["failed"])[0]))


class JqWorker:
    """One worker process, started on first use, restarted after it is killed."""

    def __init__(self, timeout: float = JQ_TIMEOUT) -> None:
        self.timeout = timeout
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._cache: OrderedDict[tuple[str, str], Any] = OrderedDict()

    def run(self, program: str, value: Any, pos: Pos) -> Any:
        text = json.dumps(value, sort_keys=True, default=str)
        key = (program, text)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        result = self._ask(program, text, pos)
        self._cache[key] = result
        if len(self._cache) > _CACHED:
            self._cache.popitem(last=False)
        return result

    def _ask(self, program: str, text: str, pos: Pos) -> Any:
        conn = self._connection()
        conn.send((program, text))
        if not conn.poll(self.timeout):
            self.close()
            raise CqlError(LIMIT, f"jq(): the program ran longer than {self.timeout:g}s", pos)
        try:
            ok, answer = conn.recv()
        except EOFError:
            self.close()
            raise CqlError(LIMIT, "jq(): the program exhausted the worker's memory", pos) from None
        if not ok:
            raise CqlError(TYPE, f"jq(): {answer}", pos)
        if answer is None:
            raise CqlError(LIMIT, f"jq(): output longer than {MAX_OUTPUT} characters", pos)
        return json.loads(answer)

    def _connection(self) -> Connection:
        if self._conn is None or self._process is None or not self._process.is_alive():
            self.close()
            context = multiprocessing.get_context("spawn")  # no fork of a threaded app
            ours, theirs = context.Pipe()
            self._process = context.Process(target=_serve, args=(theirs,), daemon=True)
            self._process.start()
            theirs.close()
            self._conn = ours
            # the deadline is the program's: wait for the interpreter to be up first
            if not ours.poll(STARTUP):
                self.close()
                raise CqlError(LIMIT, f"jq(): the worker did not start within {STARTUP:g}s")
            ours.recv()
        return self._conn

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None
