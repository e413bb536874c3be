"""`switchboard` on the command line: serve, demo, socket, catalog import|check|show, scorecards
check, postmortem, stats, report, jobs list|run, integrations status, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from switchboard.app import PortBusy, Switchboard, build, serve_http, serve_socket
from switchboard.bot.catalog.model import Entity, ParseResult, Problem, original_name
from switchboard.bot.catalog.owner_message import render
from switchboard.bot.catalog.reader import OwnedAnswer, ServiceAnswer
from switchboard.bot.incidents.postmortem import TemplateFailure, check_template
from switchboard.bot.incidents.service import Refused
from switchboard.bot.insight import chart as insight_chart
from switchboard.bot.insight import report as insight_report
from switchboard.bot.insight.api import Asked, Unclear
from switchboard.bot.insight.api import messages as insight_messages
from switchboard.bot.insight.service import DEFAULT_DAYS, MAX_DAYS
from switchboard.bot.platform import logs, progress
from switchboard.bot.platform.config import ConfigError, load_config
from switchboard.bot.platform.jobs import JobRefused, Run, next_run
from switchboard.bot.platform.logs import Redactor
from switchboard.bot.scorecards.check import check_all, summary
from switchboard.bot.scorecards.loader import LoadResult
from switchboard.bot.scorecards.loader import load_paths as load_scorecards
from switchboard.settings import Settings, SettingsError, load_settings
from switchboard.storage import db

EXIT_USAGE = 2  # a missing or malformed setting, as argparse does for bad arguments


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    redact = Redactor()
    logs.configure("INFO", "text", redact)  # until the settings are read
    database = ""
    try:
        settings = load_settings()
        redact.add(settings.secrets())
        logs.configure(settings.log_level, settings.log_format, redact)
        database = settings.database_url
        config = load_config(settings.config_file)
        check_template(config.incidents.postmortem_template)  # now, not at the first resolve
        if args.needs:
            settings.require(*args.needs)
        return _run(_within(build(settings, config, redactor=redact), settings, args))
    except (SettingsError, ConfigError, TemplateFailure, PortBusy) as error:
        print(redact(f"switchboard: {error}"), file=sys.stderr)
        return EXIT_USAGE
    except (SQLAlchemyError, OSError) as error:
        url = make_url(database).render_as_string(hide_password=True) if database else "?"
        reason = str(error).splitlines()[0][:300]
        print(redact(f"switchboard: cannot use the database {url}: {reason}"), file=sys.stderr)
        return 1
    except Exception:  # a crash's traceback goes through the log, which redacts secrets
        logging.getLogger("switchboard").critical("crashed", exc_info=True)
        return 1


Command = Callable[[argparse.Namespace, Settings, Switchboard], Coroutine[Any, Any, int]]


async def _within(sb: Switchboard, settings: Settings, args: argparse.Namespace) -> int:
    """Run the command on a database migrated first where the command reads or writes the
    catalog, and always release the database at the end."""
    command: Command = args.command
    shown = "quiet" in args  # the commands that take --quiet show their progress
    try:
        with progress.on_terminal(asked_quiet=not shown or args.quiet) as tell:
            args.progress = tell
            if args.migrate:
                done = progress.stage(tell, "migrating the database")
                await db.upgrade(sb.core.engine)
                done()
            return await command(args, settings, sb)
    finally:
        await sb.close()


def _run(coroutine: Coroutine[Any, Any, int]) -> int:
    """Run until done, Ctrl-C or SIGTERM; a stop signal is a clean exit, not a traceback."""

    async def runner() -> int:
        task = asyncio.ensure_future(coroutine)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            return await task
        except asyncio.CancelledError:
            return 0

    return asyncio.run(runner())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="answer Slack over HTTP at POST /slack/events")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    serve.add_argument(
        "--front",
        action="store_true",
        help="acknowledge Slack from a front process of its own (for heavy load)",
    )
    serve.set_defaults(
        command=_serve, needs=("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"), migrate=False
    )

    demo = commands.add_parser(
        "demo", help="the bot and a Slack-like page on this machine, without Slack"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    demo.add_argument("--database", default="", help="default: a new SQLite file each run")
    demo.set_defaults(command=_demo, needs=(), migrate=False)

    socket = commands.add_parser("socket", help="answer Slack over Socket Mode")
    socket.set_defaults(
        command=_socket, needs=("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"), migrate=False
    )

    catalog = commands.add_parser("catalog", help="import, check or show the service catalog")
    actions = catalog.add_subparsers(required=True, metavar="ACTION")
    for name, func, text, migrate in (
        ("import", _catalog_import, "import files or folders (all or nothing)", True),
        ("check", _catalog_check, "check files or folders without importing", False),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("paths", nargs="+", metavar="PATH")
        _quiet_option(action)
        action.set_defaults(command=func, needs=(), migrate=migrate)
    show = actions.add_parser("show", help="show one service, as /owner would")
    show.add_argument("service")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(command=_catalog_show, needs=(), migrate=True)

    scorecards = commands.add_parser("scorecards", help="check scorecard definitions")
    scorecard_actions = scorecards.add_subparsers(required=True, metavar="ACTION")
    scorecard_check = scorecard_actions.add_parser("check", help="check files or folders")
    scorecard_check.add_argument("paths", nargs="+", metavar="PATH")
    scorecard_check.add_argument("--json", action="store_true", help="one JSON object per rule")
    _quiet_option(scorecard_check)
    scorecard_check.set_defaults(command=_scorecards_check, needs=(), migrate=False)

    postmortem = commands.add_parser("postmortem", help="print an incident's postmortem draft")
    postmortem.add_argument("incident", type=_incident_number, metavar="INC-N")
    postmortem.set_defaults(command=_postmortem, needs=(), migrate=True)

    metrics = commands.add_parser("stats", help="insight's measures (docs/insight.md)")
    window = metrics.add_mutually_exclusive_group()
    window.add_argument(
        "--days", type=_days, default=DEFAULT_DAYS, metavar="N", help=f"default {DEFAULT_DAYS}"
    )
    window.add_argument("--since", type=_since, metavar="YYYY-MM-DD", help="from this day on")
    narrow = metrics.add_mutually_exclusive_group()
    narrow.add_argument("--team", default="", metavar="NAME", help="only this team's services")
    narrow.add_argument("--service", default="", metavar="ID", help="only this service")
    metrics.add_argument("--severity", default="", metavar="SEV", help="only this severity")
    shape = metrics.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON")
    shape.add_argument("--csv", action="store_true", help="print CSV: measure, group, value")
    metrics.set_defaults(command=_stats, needs=(), migrate=True)

    report = commands.add_parser("report", help="insight as one HTML page (docs/insight.md)")
    report.add_argument("--team", default="", metavar="NAME", help="one team (default: all)")
    report.add_argument("--weeks", type=_weeks, default=12, metavar="N", help="default 12")
    report.add_argument("--out", required=True, metavar="FILE.html", help="where to write it")
    report.set_defaults(command=_report, needs=(), migrate=True)

    jobs = commands.add_parser("jobs", help="list the scheduled jobs, or run one now")
    job_actions = jobs.add_subparsers(required=True, metavar="ACTION")
    job_list = job_actions.add_parser("list", help="every job and its next run")
    job_list.set_defaults(command=_jobs_list, needs=(), migrate=False)
    job_run = job_actions.add_parser("run", help="run one job now and say what it did")
    job_run.add_argument("job")
    job_run.add_argument("--team", default="", metavar="NAME", help="only this team's part")
    _quiet_option(job_run)
    job_run.set_defaults(command=_jobs_run, needs=(), migrate=True)

    integrations = commands.add_parser("integrations", help="the live facts' sources")
    integration_actions = integrations.add_subparsers(required=True, metavar="ACTION")
    integration_status = integration_actions.add_parser(
        "status", help="each source: configured, last success and error, facts, budget left"
    )
    integration_status.set_defaults(command=_integrations_status, needs=(), migrate=True)

    database = commands.add_parser("db", help="database maintenance")
    db_actions = database.add_subparsers(required=True, metavar="ACTION")
    upgrade = db_actions.add_parser("upgrade", help="apply the database migrations")
    _quiet_option(upgrade)
    upgrade.set_defaults(command=_db_upgrade, needs=(), migrate=True)
    return parser


def _quiet_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--quiet",
        action="store_true",
        help="no progress display, only the summary line (as when stderr is no terminal)",
    )


async def _serve(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    return await serve_http(sb, args.host, args.port or settings.port, args.front)


async def _demo(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    from switchboard.demo.run import run_demo  # the demo's fake and page stay out of `serve`

    port = settings.port if args.port is None else args.port  # 0: any free port
    await run_demo(sb.core.settings, sb.core.config, args.host, port, args.database)
    return 0


async def _socket(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    assert settings.slack_app_token is not None  # checked by `needs`
    await serve_socket(sb, settings.slack_app_token.get_secret_value())
    return 0


async def _integrations_status(
    args: argparse.Namespace, settings: Settings, sb: Switchboard
) -> int:
    for line in await sb.facts.live.status_lines():
        print(line)
    return 0


async def _db_upgrade(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    print("database is up to date")  # `migrate` did the work
    return 0


async def _catalog_import(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    report = await sb.catalog.service.import_paths(args.paths, args.progress)
    _print_problems(report.parsed)
    if report.stats is None:
        print(f"catalog unchanged: {len(report.parsed.errors)} error(s)", file=sys.stderr)
        return 1
    stats = report.stats
    print(
        f"imported {len(report.parsed.entities)} entities from {len(report.parsed.files)} files: "
        f"{stats.added} added, {stats.updated} updated, {stats.removed} removed, "
        f"{stats.unchanged} unchanged"
    )
    return 0


async def _catalog_check(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    parsed = await sb.catalog.service.check(args.paths, args.progress)
    _print_problems(parsed)
    if not parsed.ok:
        print(f"{len(parsed.errors)} error(s)", file=sys.stderr)
        return 1
    print(f"ok: {len(parsed.entities)} entities in {len(parsed.files)} files")
    return 0


async def _scorecards_check(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    done = progress.stage(args.progress, "reading scorecards")
    loaded = await asyncio.to_thread(load_scorecards, args.paths)
    done()
    _print_problems(loaded)
    if not loaded.ok:
        print(f"{len(loaded.errors)} error(s)", file=sys.stderr)
        return 1
    # A rule reading GitHub or SonarQube needs it when this process has no settings for it.
    done = progress.stage(args.progress, "checking rules")
    checks = check_all(loaded.scorecards, configured=sb.scorecards.service.configured or ())
    done()
    if args.json:
        print(json.dumps([c.as_json() for c in checks], indent=2))
        return 0
    for checked in checks:
        print(checked.line())
    goals = sum(len(scorecard.initiatives) for scorecard in loaded.scorecards)
    print(
        f"ok: {len(loaded.scorecards)} scorecards, {len(checks)} rules, {goals} initiatives "
        f"in {len(loaded.files)} files; {summary(checks)}"
    )
    return 0


async def _catalog_show(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    answer = await sb.catalog.reader.answer(args.service)
    if not isinstance(answer, ServiceAnswer | OwnedAnswer):
        print(render(answer)["text"].replace("*", ""), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(_as_json(answer), indent=2))
    else:
        print(render(answer)["text"])
        _print_entity(answer.service if isinstance(answer, ServiceAnswer) else answer.subject)
    return 0


def _incident_number(text: str) -> int:
    match = re.fullmatch(r"(?:inc-?|#)?(\d{1,9})", text.strip(), re.IGNORECASE)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an incident: give INC-4 or 4")
    return int(match.group(1))


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"give a number of days from 1 to {MAX_DAYS}")
    return int(text)


async def _postmortem(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    try:
        view = await sb.incidents.service.find(args.incident, "")
        assert view.incident.id is not None
        draft = await sb.incidents.postmortems.draft(view.incident.id)
    except (Refused, TemplateFailure) as error:
        print(f"switchboard: {error}", file=sys.stderr)
        return 1
    print(draft.markdown, end="")
    return 0


def _weeks(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 520:
        raise argparse.ArgumentTypeError("give a number of weeks from 1 to 520")
    return int(text)


async def _report(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    """A page to read outside Slack: public incidents only (a file gets passed around)."""
    try:
        scope = await sb.insight.service.scope(Asked(args.weeks * 7, team=args.team))
    except Unclear as unclear:
        print(f"switchboard: {unclear}".replace("`", ""), file=sys.stderr)
        return 2
    found = await sb.insight.service.insight(scope, public=True)
    data = await sb.insight.service.chart(scope, args.weeks)
    colors = {s.name: s.color for s in sb.core.config.incidents.severities}
    png = b"" if data.empty else await insight_chart.render(data, colors)
    page = insight_report.render(found, data, png, datetime.now(sb.core.config.tz))
    try:
        await asyncio.to_thread(Path(args.out).write_text, page, encoding="utf-8")
    except OSError as error:
        print(f"switchboard: cannot write {args.out}: {error.strerror}", file=sys.stderr)
        return 1
    count = found.response.incidents
    print(f"wrote {args.out}: {count} incident{'s' if count != 1 else ''}, {scope.label}")
    return 0


def _since(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("give a day as YYYY-MM-DD") from None


async def _stats(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    """The measures as one person sees them (`/incident stats`): see docs/insight.md."""
    days = args.days
    if args.since is not None:
        days = (datetime.now(sb.core.config.tz).date() - args.since).days
        if not 1 <= days <= MAX_DAYS:
            print(f"switchboard: --since must be 1 to {MAX_DAYS} days ago", file=sys.stderr)
            return 2
    try:
        scope = await sb.insight.service.scope(Asked(days, args.service, args.team, args.severity))
    except Unclear as unclear:
        print(f"switchboard: {unclear}".replace("`", ""), file=sys.stderr)
        return 2
    found = await sb.insight.service.insight(scope, public=False)
    if args.json:
        print(json.dumps(insight_messages.as_json(found), indent=2))
    elif args.csv:
        print(insight_messages.as_csv(found), end="")
    else:
        print(insight_messages.text(found))
    return 0


async def _jobs_list(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    now = datetime.now(sb.core.config.tz)
    rows = [("JOB", f"NEXT RUN ({sb.core.config.timezone})", "TRIGGER", "WHAT")]
    for job in sb.jobs:
        at = next_run(job, now)
        when = f"{at:%Y-%m-%d %H:%M:%S}" if at else "never"
        rows.append((job.name, when, str(job.trigger), job.description))
    print("\n".join(_columns(rows)))
    return 0


def _columns(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows as lines whose columns line up, each as wide as its widest cell (the last one
    not padded)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]
        )
        for row in rows
    ]


async def _jobs_run(args: argparse.Namespace, settings: Settings, sb: Switchboard) -> int:
    job = sb.jobs.get(args.job)
    if job is None:
        names = ", ".join(j.name for j in sb.jobs)
        print(f"switchboard: no job called {args.job!r}; the jobs: {names}", file=sys.stderr)
        return EXIT_USAGE
    if args.team and not job.per_team:
        print(f"switchboard: {job.name} does not take --team", file=sys.stderr)
        return EXIT_USAGE
    done = progress.stage(args.progress, f"running {job.name}")
    try:
        print(await job.run(Run(team=args.team, manual=True)))
        done()
    except JobRefused as refusal:
        print(f"switchboard: {job.name}: {refusal}", file=sys.stderr)
        return 1
    return 0


def _as_json(answer: ServiceAnswer | OwnedAnswer) -> dict[str, Any]:
    if isinstance(answer, OwnedAnswer):
        return {
            "entity": _entity_json(answer.subject),
            "teams": [_entity_json(t) for t in answer.teams],
            "owns": [_entity_json(s) for s in answer.services],
        }
    return {
        "entity": _entity_json(answer.service),
        "owners": [_entity_json(t.entity) for t in answer.teams]
        + [_entity_json(p) for p in answer.people],
        "unresolved_owners": answer.unresolved_owners,
        "dependencies": answer.dependencies,
    }


def _entity_json(entity: Entity) -> dict[str, Any]:
    data = asdict(entity)
    data["ref"] = entity.ref
    data["given_name"] = original_name(entity)  # what the file called it, when not its id
    for oncall in data["oncall"]:  # integration keys are secrets: show only that one is set
        oncall["integration_key"] = "set" if oncall["integration_key"] else ""
    return data


def _print_entity(entity: Entity) -> None:
    data = _entity_json(entity)
    for key, value in data.items():
        if value not in ("", [], None, 0):
            print(f"  {key}: {value}")


def _print_problems(parsed: ParseResult | LoadResult) -> None:
    for problem in parsed.warnings:
        print(f"{_relative(problem)}: warning: {problem.message}", file=sys.stderr)
    for problem in parsed.errors:
        print(f"{_relative(problem)}: {problem.message}", file=sys.stderr)


def _relative(problem: Problem) -> str:
    path = Path(problem.file)
    try:
        shown = str(path.relative_to(Path.cwd()))
    except ValueError:
        shown = str(path)
    return f"{shown}:{problem.line}"


if __name__ == "__main__":
    sys.exit(main())
