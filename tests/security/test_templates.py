"""A team's postmortem template is code from outside: it renders in Jinja2's immutable sandbox,
reads only files inside its folder, and runs in a child process under a time, memory and
length limit. Whatever it tries, the answer is one `file:line: problem` line (exit 2 when the
config is loaded, since the template is checked then) and never a partial draft."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.bot.incidents.postmortem import check_template
from switchboard.bot.incidents.postmortem_view import sample_record
from switchboard.bot.platform.templating import Limits, TemplateFailure, render_team_template
from switchboard.cli import main

SECRET = "xoxb-1234-secret-token-of-the-bot"
HOSTILE = {
    "python through self": "{{ self.__init__.__globals__['os'].popen('id').read() }}",
    "python through a global": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "the class of a value": "{{ incident.title.__class__.__mro__ }}",
    "by subscript": "{{ incident['__class__'] }}",
    "in a branch the sample never takes": (
        "{% if incident.number > 10**6 %}{{ incident.__class__ }}{% endif %}"
    ),
    "through the attr filter": "{{ incident.title | attr('__class__') }}",
    "through str.format": "{{ '{0.__class__}'.format(incident) }}",
    "a list it is given": "{{ services.append(1) }}",
}


@pytest.fixture
def team(tmp_path: Path) -> Path:
    folder = tmp_path / "team"
    folder.mkdir()
    return folder


def load(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    template: Path,
    *argv: str,
) -> tuple[int, str, str]:
    """`switchboard <argv>` with a config naming `template`, a token in the environment."""
    config = tmp_path / "switchboard.yml"
    config.write_text(f"incidents:\n  postmortem_template: {template}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SLACK_BOT_TOKEN", SECRET)
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("body", "argv"),
    [(body, ["jobs", "list"]) for body in HOSTILE.values()]
    + [(HOSTILE["python through self"], ["postmortem", "INC-1"])],
    ids=[*HOSTILE, "switchboard postmortem"],
)
def test_a_template_reaching_for_python_is_refused_at_load_with_its_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    team: Path,
    body: str,
    argv: list[str],
) -> None:
    template = team / "postmortem.md.j2"
    template.write_text(f"# {{{{ incident.ref }}}}\n{body}\n")
    code, out, err = load(capsys, monkeypatch, tmp_path, template, *argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"switchboard: {template}:2: access to attribute ")
    assert err.endswith(" is unsafe\n") or err.endswith(" is unsafe.\n")
    assert err.count("\n") == 1
    assert not (tmp_path / "cli.db").exists()  # refused before anything started


def test_a_symlink_out_of_the_folder_is_refused_and_not_read(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, team: Path
) -> None:
    secrets = tmp_path / "secrets.env"
    secrets.write_text(f"SLACK_BOT_TOKEN={SECRET}\n")
    (team / "part.md.j2").symlink_to(secrets)
    template = team / "postmortem.md.j2"
    template.write_text("# {{ incident.ref }}\n{% include 'part.md.j2' %}\n")
    code, out, err = load(capsys, monkeypatch, tmp_path, template, "jobs", "list")
    assert (code, out) == (2, "")
    assert err == f"switchboard: {team}/part.md.j2: refused: it leads outside {team}\n"
    # The template itself as a symlink to a file elsewhere: the same.
    template.unlink()
    template.symlink_to(secrets)
    code, out, err = load(capsys, monkeypatch, tmp_path, template, "jobs", "list")
    assert (code, err) == (2, f"switchboard: {template}: refused: it leads outside {team}\n")
    assert SECRET not in err


def test_a_part_inside_the_folder_is_fine(team: Path) -> None:
    (team / "parts").mkdir()
    (team / "parts" / "people.md.j2").write_text("{{ participants | join(', ') }}\n")
    template = team / "postmortem.md.j2"
    template.write_text("# {{ incident.ref }}\n{% include 'parts/people.md.j2' %}")
    check_template(str(template))
    drafted = render_team_template(str(template), sample_record().variables())
    assert drafted == "# INC-1\n@alice, @bob\n"


FAST = Limits(seconds=1, memory_bytes=256 * 2**20, output_chars=10_000)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "{path}:2: took longer than 1 s (a loop that does not end?)",
        ),
        ("{{ 'x' * 10**9 }}", "{path}:2: needs more than 256 MB"),
        (
            "{% for i in range(1000) %}{{ 'x' * 100 }}{% endfor %}",
            "{path}: the draft is longer than 10,000 characters",
        ),
        # One step of C that no timer interrupts: the CPU limit stops the child.
        ("{{ 3 ** (10 ** 8) }}", "{path}: stopped: it took longer than 1 s or more than 256 MB"),
    ],
    ids=["endless loop", "huge string", "huge draft", "huge number"],
)
def test_a_template_past_its_limits_fails_cleanly(team: Path, body: str, problem: str) -> None:
    template = team / "postmortem.md.j2"
    template.write_text(f"# {{{{ incident.ref }}}}\n{body}\n")
    with pytest.raises(TemplateFailure) as failure:
        render_team_template(str(template), sample_record().variables(), limits=FAST)
    assert str(failure.value) == problem.format(path=template)
