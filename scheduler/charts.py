"""Server-rendered SVG charts for the dashboard: no JavaScript, nothing fetched from the internet."""
from __future__ import annotations

from markupsafe import Markup, escape

COLOURS = ("#07c160", "#3370ff", "#ffb400", "#f77234", "#d83931", "#8f959e")


def _opening(title: str, width: int, height: int, font: int) -> str:
    """An SVG that names itself (in Chinese) to screen readers and on hover."""
    return (f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" font-size="{font}">'
            f'<title>{escape(title)}</title>')


def bars(items: list[tuple[str, float]], *, title: str, width: int = 420, bar: int = 18, unit: str = "",
         colours: list[str] | None = None) -> Markup:
    """Horizontal bars with labels and values; an empty list says so. `colours` per bar, e.g. the
    risk levels' `var(--l4)` from the shared layout (as a style, since SVG attributes take no var())."""
    if not items:
        return Markup('<p class="muted">本期没有数据</p>')
    top = max(v for _, v in items) or 1
    label_w, height = 130, len(items) * (bar + 8) + 4
    parts = [_opening(title, width, height, 12)]
    for i, (label, value) in enumerate(items):
        y = 2 + i * (bar + 8)
        w = max(1, int((width - label_w - 60) * value / top))
        colour = colours[i] if colours else COLOURS[i % len(COLOURS)]
        parts.append(f'<text x="0" y="{y + bar - 5}">{escape(label)[:18]}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar}" rx="3" style="fill:{colour}"/>'
                     f'<text x="{label_w + w + 6}" y="{y + bar - 5}">{value:g}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(series: list[tuple[str, float]], *, title: str, width: int = 560, height: int = 140) -> Markup:
    """A column per day (labels every few days), for counts over the period."""
    if not series or not any(v for _, v in series):
        return Markup('<p class="muted">本期没有数据</p>')
    top = max(v for _, v in series) or 1
    step = width / len(series)
    parts = [_opening(title, width, height + 18, 10)]
    for i, (label, value) in enumerate(series):
        h = int(height * value / top)
        x = int(i * step)
        parts.append(f'<rect x="{x}" y="{height - h}" width="{max(1, int(step) - 2)}" height="{h}" fill="#07c160">'
                     f'<title>{escape(label)}: {value:g}</title></rect>')
        if i % max(1, len(series) // 6) == 0:
            parts.append(f'<text x="{x}" y="{height + 14}">{escape(label[5:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
