"""`switchboard report`: one self-contained HTML page (the chart inline as a PNG data URL)
for a team or everyone, for whoever reads this outside Slack. A file gets passed around, so
it is a public surface: public incidents only, as in a channel."""

from __future__ import annotations

import base64
from datetime import datetime
from html import escape

from switchboard.bot.insight import chart, messages
from switchboard.bot.insight.service import ChartData, Insight

STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "color:#1f2328}h1{font-size:1.6rem}h2{font-size:1.1rem;margin-top:1.6rem}"
    "ul{padding-left:1.2rem}img{max-width:100%}.note{color:#59636e}"
)


def render(found: Insight, data: ChartData, png: bytes, generated: datetime) -> str:
    """The page: the summary, the chart (or why there is none), every measure's lines."""
    title = f"Incident insight: {found.scope.label}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p>{escape(messages.summary(found))}</p><p class="note">'
        f"{escape(messages.PUBLIC_NOTE)} Made {escape(generated.isoformat(timespec='minutes'))}; "
        "every measure is defined in docs/insight.md.</p>",
    ]
    if png:
        encoded = base64.b64encode(png).decode()
        parts.append(
            f'<img src="data:image/png;base64,{encoded}" alt="{escape(chart.alt_text(data))}">'
        )
    else:
        parts.append('<p class="note">No incidents in these weeks: no chart.</p>')
    for heading, lines in messages.sections(found):
        items = "".join(f"<li>{escape(line)}</li>" for line in lines)
        parts.append(f"<h2>{escape(heading)}</h2><ul>{items}</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
