"""Making user text safe and small enough for Slack."""

from __future__ import annotations

from datetime import timedelta

SECTION_LIMIT = 3000  # characters in a section block's text
BUTTON_TEXT_LIMIT = 75
HEADER_LIMIT = 150


def escape(text: str) -> str:
    """Slack's three control characters as entities, so echoed user text can never become
    `<!channel>`, `<@U...>` or a disguised link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe(text: str, limit: int = SECTION_LIMIT) -> str:
    """`text` escaped and cut to `limit` characters without splitting an entity like `&amp;`."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def link(url: str, label: str) -> str:
    """A mrkdwn link to an http(s) URL; anything else is shown as escaped text, not linked."""
    if not url.startswith(("http://", "https://")):
        return safe(label or url, 500)
    # A "|" would end the URL early and let the rest pose as the label.
    return f"<{safe(url.replace('|', '%7C'), 2000)}|{safe(label or url, 200)}>"


def duration(delta: timedelta) -> str:
    """An exact duration for people: "2 d 3 h 4 min", seconds only when there are some."""
    total = int(delta.total_seconds())  # never `.seconds`: that drops the days
    sign, total = ("-" if total < 0 else ""), abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n]
    if seconds or not parts:
        parts.append(f"{seconds} s")
    return sign + " ".join(parts)


def plural(count: int, noun: str) -> str:
    """ "1 open incident", "2 open incidents", "no open incidents"."""
    if count == 0:
        return f"no {noun}s"
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
