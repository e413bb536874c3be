"""Insight's chart as a PNG: incidents per week by severity (stacked bars) and their median
time to resolve (a line, right axis). Drawn with matplotlib's Agg canvas on a `Figure` of
its own (never pyplot, whose global state is not for threads), in a worker thread: drawing
takes tens of milliseconds, which the event loop must not wait for."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence

from switchboard.bot.insight.service import ChartData

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH, HEIGHT, DPI = 8.0, 3.6, 100


async def render(data: ChartData, colors: dict[str, str]) -> bytes:
    """The PNG's bytes (`colors`: a severity's colour, from the configuration)."""
    return await asyncio.to_thread(draw, data, colors)


def draw(data: ChartData, colors: dict[str, str]) -> bytes:
    # matplotlib (and numpy) are loaded on the first chart, not by every process that
    # imports the bot: some 30 MB and a fifth of a second that `serve` need not pay up front.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    x = list(range(len(data.weeks)))
    bottom = [0] * len(x)
    keys = []  # the legend's: plain patches, as the bars' own handles cost ~40 ms to copy
    for severity, counts in data.counts.items():
        if not any(counts):
            continue
        color = colors.get(severity, "#888888")
        axes.bar(x, counts, bottom=bottom, color=color)
        keys.append(Patch(facecolor=color, label=severity))
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_ylabel("incidents")
    axes.set_xticks(x, [w[5:] for w in data.weeks], fontsize=7)  # MM-DD of each Monday
    # y given: the title stays where it would be, without measuring every tick to place it
    axes.set_title(data.title[:80], fontsize=10, y=1.0)
    if any(h is not None for h in data.resolve_hours):
        right = axes.twinx()
        points = [(n, h) for n, h in enumerate(data.resolve_hours) if h is not None]
        right.plot(
            *zip(*points, strict=True), color="#222222", marker="o", label="median to resolve"
        )
        right.set_ylabel("hours to resolve (median)")
        right.set_ylim(bottom=0)
    if any(bottom):
        axes.legend(handles=keys, loc="upper left", fontsize=7)
    # Fixed margins: tight_layout measures every text and costs more than the drawing.
    figure.subplots_adjust(left=0.07, right=0.92, top=0.9, bottom=0.12)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def alt_text(data: ChartData) -> str:
    """The chart's numbers in words, for whoever cannot see it (Slack's alt text)."""
    parts = []
    for n, week in enumerate(data.weeks):
        counts = [f"{c} {s}" for s, series in data.counts.items() if (c := series[n])]
        hours = data.resolve_hours[n]
        said = ", ".join(counts) if counts else "none"
        if hours is not None:
            said += f", median {hours:g} h to resolve"
        parts.append(f"week of {week}: {said}")
    return _cut(f"{data.title}. " + "; ".join(parts), 1000)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_png(data: Sequence[int] | bytes) -> bool:
    return bytes(data[:8]) == PNG_SIGNATURE
