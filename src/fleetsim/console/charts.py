"""Charts as inline SVG, drawn on the server: no script, no stylesheet, no build step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["COLOURS", "Series", "line_chart"]

COLOURS = ("#1f5fbf", "#d9822b", "#1e7b34", "#b3261e", "#7a4bc2", "#0f8b8d", "#8a6d3b", "#555")
WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 36


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]  # one per bucket, in bucket order


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 × 10^n at or above `value`."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    return 10 * magnitude


def _data_label(value: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000:
            return f"{value:g} {unit}"
        value /= 1000
    return f"{value:g} PB"


def line_chart(buckets: Sequence[dt.datetime], series: Sequence[Series], *, hourly: bool) -> Markup:
    """One line per series over the buckets, with axes labelled in bytes and times."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_ceiling(max((v for s in series for v in s.values), default=0))
    count = max(len(buckets), 1)

    def x(index: int) -> float:
        return LEFT + (plot_w * (index + 0.5) / count)

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * value / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="Data used per {"hour" if hourly else "day"}" class="usage-chart">'
    ]
    for step in range(5):
        value = top * step // 4
        level = y(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{level:.1f}" y2="{level:.1f}" '
            'stroke="#d9dee8" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{level + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#5c667a">{escape(_data_label(value))}</text>'
        )
    label_every = max(1, count // 6)
    for index, start in enumerate(buckets):
        if index % label_every == 0:
            text = start.strftime("%d %H:00" if hourly else "%b %d")
            parts.append(
                f'<text x="{x(index):.1f}" y="{HEIGHT - 12}" text-anchor="middle" font-size="11" '
                f'fill="#5c667a">{escape(text)}</text>'
            )
    for number, line in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(line.values))
        parts.append(
            f'<polyline class="series" data-series="{escape(line.name)}" points="{points}" '
            f'fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        if count <= 62:
            for index, value in enumerate(line.values):
                when = buckets[index].strftime("%Y-%m-%d %H:00" if hourly else "%Y-%m-%d")
                parts.append(
                    f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                    f"<title>{escape(line.name)} · {when} · {value:,} bytes</title></circle>"
                )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
