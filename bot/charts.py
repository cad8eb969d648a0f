"""Server-rendered SVG charts (no scripts, no fonts fetched): the resident's trend line on the record
page (flows) and the staff dashboard's bars and columns (scheduler).

The trend is read on a phone (390 px wide), so nothing in it may cover anything else: the bands are
shaded areas named in a legend under the chart (flows_record.html), a score is written over its point
only when the points stand far enough apart, and the dates under the axis are thinned until none
touches its neighbour. Times arrive already in the service's local zone.

Every label goes through `label()`: cut to its room first, then escaped, so a cut never splits an
entity like `&amp;` and an escaped label is never longer than its room.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 28, 8, 18, 26
INSET = 10               # points keep clear of the plot's edges and the axis numbers
RADIUS = 3.5
FONT = 10                # in viewBox units, about as many CSS pixels at 390 px
LABEL_GAP = 6            # the least space between two date labels
BAND_FILLS = ("#e8f7ee", "#fdf6e3", "#fdebdc", "#fbe1e0", "#f6d5de")
COLOURS = ("#07c160", "#3370ff", "#ffb400", "#f77234", "#d83931", "#8f959e")
BAR_LABEL_CHARS = 18     # a bar's label beyond this is cut (the label column is 130 px wide)
NO_DATA = Markup('<p class="muted">本期没有数据</p>')


def label(text: str, limit: int | None = None) -> Markup:
    """Text for inside the SVG: cut to `limit` characters, then escaped."""
    return escape(text if limit is None else text[:limit])


@dataclass(frozen=True)
class BandArea:
    low: int
    high: int
    name: str


def text_width(text: str, size: float = FONT) -> float:
    """A generous estimate of a label's width: CJK characters are a full em, others about 0.62 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.62 for ch in text)


def band_fill(index: int) -> str:
    return BAND_FILLS[min(index, len(BAND_FILLS) - 1)]


def date_label(when: datetime, lang: str, with_year: bool) -> str:
    if lang == "en":
        return f"{when:%b} {when.day}" + (f" {when.year}" if with_year else "")
    return (f"{when.year}年" if with_year else "") + f"{when.month}月{when.day}日"


def spread_labels(centres: list[float], widths: list[float]) -> list[int]:
    """Which labels to draw so that none overlaps the next: always the last (the latest result),
    then from the first on, each that clears the one before it and the last."""
    if not centres:
        return []
    last = len(centres) - 1

    def clear(a: int, b: int) -> bool:
        return centres[b] - centres[a] >= (widths[a] + widths[b]) / 2 + LABEL_GAP

    chosen: list[int] = []
    for i in range(last):
        if (not chosen or clear(chosen[-1], i)) and clear(i, last):
            chosen.append(i)
    return chosen + [last]


def trend_svg(points: list[tuple[datetime, int]], total_range: tuple[int, int], bands: list[BandArea],
              lang: str = "zh-Hans") -> Markup:
    """Totals in time order as a line over the shaded bands; scores over points when there is room."""
    low, high = total_range
    span = max(1, high - low)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return round(TOP + plot_h - (value - low) / span * plot_h, 1)

    inner = plot_w - 2 * INSET

    def x(index: int) -> float:
        step = inner / 2 if len(points) == 1 else index * inner / (len(points) - 1)
        return round(LEFT + INSET + step, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
             f'role="img" class="trend" font-family="sans-serif">']
    for index, band in enumerate(bands):
        top, bottom = y(min(high, band.high + 0.5)), y(max(low, band.low - 0.5))
        parts.append(f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{round(bottom - top, 1)}" '
                     f'fill="{band_fill(index)}"><title>{label(band.name)} {band.low}–{band.high}</title></rect>')
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#e5e6eb"/>')
    for value in (low, high):
        parts.append(f'<text class="axis" x="{LEFT - 4}" y="{y(value) + FONT * 0.35}" font-size="{FONT}" '
                     f'fill="#646a73" text-anchor="end">{value}</text>')
    if len(points) > 1:
        coords = " ".join(f"{x(i)},{y(total)}" for i, (_, total) in enumerate(points))
        parts.append(f'<polyline points="{coords}" fill="none" stroke="#07c160" stroke-width="2"/>')
    for i, (when, total) in enumerate(points):
        parts.append(f'<circle class="point" cx="{x(i)}" cy="{y(total)}" r="{RADIUS}" fill="#07c160">'
                     f'<title>{label(date_label(when, lang, True))}: {total}</title></circle>')
    parts += _score_labels(points, x, y, inner)
    parts += _date_labels(points, x, lang)
    parts.append("</svg>")
    return Markup("".join(parts))


def _score_labels(points, x, y, inner: float) -> list[str]:
    """Each score just above its point (below when the point is at the top), only when neighbours
    stand wider apart than a label (and than half a label and a point): then no label can touch
    another label or another point."""
    widest = max((text_width(str(total)) for _, total in points), default=0)
    step = inner if len(points) < 2 else inner / (len(points) - 1)
    if step < max(widest, widest / 2 + RADIUS) + LABEL_GAP:
        return []
    out = []
    for i, (_, total) in enumerate(points):
        above = y(total) - RADIUS - 4
        baseline = above if above - FONT >= 0 else y(total) + RADIUS + FONT + 2
        out.append(f'<text class="score" x="{x(i)}" y="{round(baseline, 1)}" font-size="{FONT}" fill="#1f2329" '
                   f'text-anchor="middle">{total}</text>')
    return out


def _date_labels(points, x, lang: str) -> list[str]:
    """Dates under the axis, one per day shown, thinned so that no two touch and none leaves the chart."""
    if not points:
        return []
    with_year = points[0][0].year != points[-1][0].year
    days: dict[str, int] = {}
    for i, (when, _) in enumerate(points):
        days.setdefault(date_label(when, lang, with_year), i)  # the day's first point
    texts = list(days)
    widths = [text_width(t) for t in texts]
    centres = [min(max(x(i), w / 2 + 1), WIDTH - w / 2 - 1) for i, w in zip(days.values(), widths)]
    baseline = HEIGHT - 8
    return [f'<text class="date" x="{round(centres[k], 1)}" y="{baseline}" font-size="{FONT}" fill="#646a73" '
            f'text-anchor="middle">{label(texts[k])}</text>' for k in spread_labels(centres, widths)]


# -- the dashboard's charts -----------------------------------------------------------------------
def _opening(title: str, width: int, height: int, font: int) -> str:
    """An SVG that names itself (in Chinese) to screen readers and on hover."""
    return (f'<svg role="img" aria-label="{label(title)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" font-size="{font}">'
            f'<title>{label(title)}</title>')


def bars(items: list[tuple[str, float]], *, title: str, width: int = 420, bar: int = 18, unit: str = "",
         colours: list[str] | None = None) -> Markup:
    """Horizontal bars with labels and values; an empty list says so. `colours` per bar, e.g. the
    risk levels' `var(--l4)` from the shared layout (as a style, since SVG attributes take no var())."""
    if not items:
        return NO_DATA
    top = max(v for _, v in items) or 1
    label_w, height = 130, len(items) * (bar + 8) + 4
    parts = [_opening(title, width, height, 12)]
    for i, (name, value) in enumerate(items):
        y = 2 + i * (bar + 8)
        w = max(1, int((width - label_w - 60) * value / top))
        colour = colours[i] if colours else COLOURS[i % len(COLOURS)]
        parts.append(f'<text x="0" y="{y + bar - 5}">{label(name, BAR_LABEL_CHARS)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar}" rx="3" style="fill:{colour}"/>'
                     f'<text x="{label_w + w + 6}" y="{y + bar - 5}">{value:g}{label(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

