"""Reading when an incident's impact started, as people type it (`/incident started`, the
declare modal's field), in the configured time zone. No dependency on the incident service,
which uses it while declaring."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from switchboard.bot.platform.text import safe

USAGE = (
    "Say when the impact started, in {zone}: `/incident started 14:05`, "
    "`/incident started yesterday 23:40` or `/incident started 2026-03-29 01:30`."
)
EARLIEST = timedelta(days=31)  # before the declare: a typo rather than a slow declare
_TIME = r"([01]?\d|2[0-3]):([0-5]\d)"
_FORMS = re.compile(
    rf"^(?:(yesterday|today|\d{{4}}-\d{{2}}-\d{{2}})[ T])?{_TIME}$", re.IGNORECASE | re.ASCII
)


class BadMoment(ValueError):
    """Not a moment the impact can have started at; the message says why (mrkdwn)."""


def parse_moment(text: str, tz: tzinfo, now: datetime) -> datetime:
    """`HH:MM` (today), `yesterday HH:MM` or `YYYY-MM-DD HH:MM`, in `tz`, as aware UTC. A
    time that does not exist there (skipped by a daylight-saving change) is refused; one
    that happens twice (the hour repeated) is the first."""
    zone = str(getattr(tz, "key", tz))
    match = _FORMS.match(" ".join(text.split()))
    if not match:
        raise BadMoment(USAGE.format(zone=zone))
    day_word, hour, minute = match.groups()
    today = now.astimezone(tz).date()
    if day_word is None or day_word.casefold() == "today":
        day = today
    elif day_word.casefold() == "yesterday":
        day = today - timedelta(days=1)
    else:
        try:
            day = date.fromisoformat(day_word)
        except ValueError:
            raise BadMoment(
                f"`{safe(day_word, 20)}` is not a date. " + USAGE.format(zone=zone)
            ) from None
    wall = datetime.combine(day, time(int(hour), int(minute)))
    local = wall.replace(tzinfo=tz)
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        raise BadMoment(f"{wall:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks skipped it).")
    return local.astimezone(UTC)


def checked(moment: datetime, declared_at: datetime) -> datetime:
    """`moment` as an impact start of an incident declared at `declared_at`."""
    if moment > declared_at:
        raise BadMoment("The impact cannot have started after the incident was declared.")
    if moment < declared_at - EARLIEST:
        raise BadMoment(f"That is more than {EARLIEST.days} days before the incident was declared.")
    return moment


def shown(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} (UTC{local:%z})"
