"""A small server-rendered SVG line chart of one scale's totals over time (no scripts, no fonts fetched)."""
from __future__ import annotations

from datetime import datetime
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 320, 160
LEFT, RIGHT, TOP, BOTTOM = 30, 10, 10, 24


def trend_svg(points: list[tuple[datetime, int]], total_range: tuple[int, int],
              cuts: list[tuple[int, str]]) -> Markup:
    """Totals in time order as a polyline; dashed lines where the bands change, labelled."""
    low, high = total_range
    span = max(1, high - low)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return round(TOP + plot_h - (value - low) / span * plot_h, 1)

    def x(index: int) -> float:
        return round(LEFT + (plot_w / 2 if len(points) == 1 else index * plot_w / (len(points) - 1)), 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="100%" role="img" class="trend">',
             f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#e5e6eb"/>']
    for value, label in cuts:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value)}" y2="{y(value)}" '
                     f'stroke="#c9cdd4" stroke-dasharray="3 3"/>')
        parts.append(f'<text x="{WIDTH - RIGHT - 2}" y="{y(value) - 2}" font-size="8" fill="#8f959e" '
                     f'text-anchor="end">{escape(label)}</text>')
    for value in (low, high):
        parts.append(f'<text x="{LEFT - 4}" y="{y(value) + 3}" font-size="9" fill="#646a73" '
                     f'text-anchor="end">{value}</text>')
    coords = " ".join(f"{x(i)},{y(total)}" for i, (_, total) in enumerate(points))
    if len(points) > 1:
        parts.append(f'<polyline points="{coords}" fill="none" stroke="#07c160" stroke-width="2"/>')
    for i, (when, total) in enumerate(points):
        parts.append(f'<circle cx="{x(i)}" cy="{y(total)}" r="3" fill="#07c160">'
                     f'<title>{when:%Y-%m-%d}: {total}</title></circle>')
    if points:
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="9" fill="#646a73">{points[0][0]:%m-%d}</text>')
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" font-size="9" fill="#646a73" '
                     f'text-anchor="end">{points[-1][0]:%m-%d}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
