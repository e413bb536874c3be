"""Rendering templates that teams supply (a postmortem template and the files it includes).

Such a template is code from outside, so it is rendered:

- in Jinja2's `ImmutableSandboxedEnvironment`: no attribute starting with `_` (the way out to
  `__globals__`, `os`, `popen`), no unsafe attributes of functions and generators, no
  changing lists or dicts it is given;
- from a loader that reads only files inside the template's folder, after resolving
  symlinks (a symlink to `/etc/passwd` or `../secrets` is refused);
- in a child process of its own with a time limit, a memory limit and a limit on the
  draft's length, and only the settings it needs in its environment (no token), so a
  template that loops for ever or builds a huge string fails with one line instead of
  hanging or exhausting the bot. The child prints the whole draft or nothing: there is never
  a partial render.

Every failure is one `file:line: problem` line (`TemplateFailure`). Run as
`python -m switchboard.bot.platform.templating`, this module is that child.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
    nodes,
)
from jinja2 import sandbox as jinja_sandbox
from jinja2.sandbox import ImmutableSandboxedEnvironment

from switchboard.bot.platform.text import escape

# What the child may see of the environment: enough to start Python, no secret.
_CHILD_ENVIRONMENT = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "LC_CTYPE")
_UNSAFE_NAMES = frozenset().union(
    jinja_sandbox.UNSAFE_FUNCTION_ATTRIBUTES,
    jinja_sandbox.UNSAFE_METHOD_ATTRIBUTES,
    jinja_sandbox.UNSAFE_GENERATOR_ATTRIBUTES,
    jinja_sandbox.UNSAFE_COROUTINE_ATTRIBUTES,
    jinja_sandbox.UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    {"mro"},
)
_FAILED = 3  # the child's exit code for a template that failed (stderr says how)


@dataclass(frozen=True, slots=True)
class Limits:
    seconds: float = 5  # a draft of any real incident renders in well under a second
    memory_bytes: int = 512 * 2**20  # the child's whole address space
    output_chars: int = 2_000_000  # about a thousand pages of Markdown

    @property
    def megabytes(self) -> int:
        return self.memory_bytes // 2**20


LIMITS = Limits()


class TemplateFailure(Exception):
    """A template could not be read, checked or rendered: one `file:line: problem` line."""


def quote(text: str) -> str:
    """Text as a Markdown block quote: whatever it holds (an open code fence, a heading) stays
    inside the quote instead of swallowing the rest of the document."""
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines() or [""])


def configure(env: Environment) -> Environment:
    """What our templates and teams' alike get: Markdown (no HTML escaping), strict
    variables, and the `slack` and `quote` filters."""
    env.filters["slack"] = escape
    env.filters["quote"] = quote
    return env


OPTIONS: dict[str, Any] = {
    "undefined": StrictUndefined,
    "autoescape": False,  # Markdown, not HTML
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "cache_size": 0,  # read on every draft (they are rare): edits need no restart
}


class FolderLoader(FileSystemLoader):
    """Templates from one folder, refusing any file whose real path (symlinks resolved) is
    outside it. Jinja's own loader already refuses `..` in a name; this closes symlinks."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self._root = folder.resolve()

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        if not Path(filename).resolve().is_relative_to(self._root):
            raise TemplateFailure(f"{filename}: refused: it leads outside {self._root}")
        return source, filename, uptodate


def sandbox(folder: Path) -> ImmutableSandboxedEnvironment:
    return configure(ImmutableSandboxedEnvironment(loader=FolderLoader(folder), **OPTIONS))  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class _Job:
    """What the child is asked: render `name` from `folder` with `variables`; with `check`,
    first look for unsafe attribute access anywhere in it and what it includes, also in
    branches the variables do not reach."""

    folder: str
    name: str
    variables: dict[str, Any]
    check: bool
    limits: Limits


def render_team_template(
    path: str, variables: dict[str, Any], check: bool = False, limits: Limits = LIMITS
) -> str:
    """A team's template rendered in the sandbox, in a child process under the limits."""
    job = _Job(str(Path(path).parent), Path(path).name, variables, check, limits)
    environment = {k: os.environ[k] for k in _CHILD_ENVIRONMENT if k in os.environ}
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__],
            input=pickle.dumps(job),
            capture_output=True,
            env=environment,
            # The child stops itself at the time limit; this is for a child that cannot.
            timeout=limits.seconds * 3 + 5,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TemplateFailure(f"{path}: took longer than {limits.seconds:g} s") from None
    if done.returncode == 0:
        return done.stdout.decode("utf-8")
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    if done.returncode == _FAILED and said:
        raise TemplateFailure(said[-1])
    # Killed: past its CPU time (SIGXCPU) or its memory, in a step the limits cannot name.
    raise TemplateFailure(
        f"{path}: stopped: it took longer than {limits.seconds:g} s "
        f"or more than {limits.megabytes} MB"
    )


class _TooSlow(Exception):
    pass


def _child() -> int:
    job: _Job = pickle.loads(sys.stdin.buffer.read())  # from our own parent, never from a team
    _limit_myself(job.limits)
    shown = str(Path(job.folder, job.name))
    try:
        markdown = _render(job, shown)
    except TemplateFailure as failure:
        print(_one_line(str(failure)), file=sys.stderr)
        return _FAILED
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    sys.stdout.write(markdown)
    return 0


def _limit_myself(limits: Limits) -> None:
    import resource  # Unix only, like the bot

    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    cpu = int(limits.seconds) + 1  # for a step the timer cannot interrupt
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

    def too_slow(signum: int, frame: FrameType | None) -> None:
        raise _TooSlow  # inside the template's code, so the traceback says which line

    signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, limits.seconds)


def _render(job: _Job, shown: str) -> str:
    env = sandbox(Path(job.folder))
    try:
        template = env.get_template(job.name)
        if job.check:
            _check_attributes(env, job.name)
        return _bounded(template, job.variables, shown, job.limits.output_chars)
    except TemplateFailure:
        raise
    except TemplateNotFound as missing:
        if missing.name == job.name:
            raise TemplateFailure(f"{shown}: no such template file") from None
        raise TemplateFailure(f"{_where(missing) or shown}: no template {missing.name}") from None
    except TemplateSyntaxError as error:  # in this file or one it includes
        where = f"{error.filename or shown}:{error.lineno}"
        raise TemplateFailure(f"{where}: {error.message}") from None
    except _TooSlow as error:
        raise TemplateFailure(
            f"{_where(error) or shown}: took longer than {job.limits.seconds:g} s "
            "(a loop that does not end?)"
        ) from None
    except MemoryError as error:
        limit = job.limits.megabytes
        raise TemplateFailure(f"{_where(error) or shown}: needs more than {limit} MB") from None
    except RecursionError as error:
        raise TemplateFailure(f"{_where(error) or shown}: nested too deeply") from None
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateFailure(f"{shown}: cannot read: {error}") from None
    except Exception as error:  # a team's template can fail in any way: say where
        raise TemplateFailure(f"{_where(error) or shown}: {error}") from None


def _bounded(template: Template, variables: dict[str, Any], shown: str, most: int) -> str:
    parts, length = [], 0
    for part in template.generate(variables):
        length += len(part)
        if length > most:
            limit = f"{most:,}"
            raise TemplateFailure(f"{shown}: the draft is longer than {limit} characters")
        parts.append(part)
    return "".join(parts)


def _check_attributes(env: Environment, name: str) -> None:
    """Refuse attribute access the sandbox would refuse, wherever it is in the template or
    the templates it names, reached by the sample record or not."""
    seen: set[str] = set()
    waiting = [name]
    while waiting:
        current = waiting.pop()
        if current in seen:
            continue
        seen.add(current)
        assert env.loader is not None
        source, filename, _ = env.loader.get_source(env, current)
        tree = env.parse(source, current, filename)
        for node, attribute in _attributes(tree):
            if attribute.startswith("_") or attribute in _UNSAFE_NAMES:
                raise TemplateFailure(
                    f"{filename}:{node.lineno}: access to attribute {attribute!r} is unsafe"
                )
        waiting += [t for t in meta.find_referenced_templates(tree) if t is not None]


def _attributes(tree: nodes.Template) -> Iterator[tuple[nodes.Node, str]]:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            yield node, node.attr
        elif isinstance(node, nodes.Getitem):
            key = node.arg
            if isinstance(key, nodes.Const) and isinstance(key.value, str):
                yield node, key.value


def _where(error: BaseException) -> str:
    """`file:line` of the template line an error came from (the innermost, for an included
    template): Jinja puts template lines into the traceback as frames of their own."""
    where, trace = "", error.__traceback__
    while trace is not None:
        if "__jinja_exception__" in trace.tb_frame.f_globals:
            where = f"{trace.tb_frame.f_code.co_filename}:{trace.tb_lineno}"
        trace = trace.tb_next
    return where


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(_child())
