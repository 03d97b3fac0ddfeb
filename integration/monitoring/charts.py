"""Charts as inline SVG, drawn on the server from the figures: the admin loads no script and no CDN.

Two shapes cover the home page: :func:`bars_svg` (one or two series of bars over the same slots,
today against the same day last week) and :func:`line_svg` (one series over time, with the limit
it must stay under). Every bar and point carries its value in a ``<title>`` (shown on hover, read
by screen readers) and a ``data-value`` attribute; colours come from the admin's CSS variables.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 480, 180
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 10, 22  # margins: the axis labels are drawn in them


def _scale(values: Sequence[float], limit: float | None) -> float:
    """The top of the y axis: the largest value or limit, rounded up to 1, 2 or 5 times a power of ten."""
    top = max([*values, limit or 0, 1])
    magnitude = 1.0
    while True:
        for nice in (1, 2, 5):
            if top <= nice * magnitude:
                return nice * magnitude
        magnitude *= 10


def _frame(
    body: list[str], *, label: str, top: float, unit: str, slots: Sequence[str], every: int
) -> SafeString:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{escape(_number(top))}{escape(unit)}</text>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    slot_w = plot_w / max(len(slots), 1)
    for i, slot in enumerate(slots):
        if i % every == 0:
            x = LEFT + slot_w * i + slot_w / 2
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{escape(slot)}</text>'
            )
    parts.extend(body)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text in it went through escape()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def bars_svg(
    slots: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],
    *,
    label: str,
    every: int = 3,
) -> SafeString:
    """Bars for each slot, one per series (css class, name, values): series side by side."""
    top = _scale([v for _, _, values in series for v in values], None)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot_w = plot_w / max(len(slots), 1)
    bar_w = max(slot_w * 0.8 / max(len(series), 1), 1)
    body = []
    for s, (css, name, values) in enumerate(series):
        for i, value in enumerate(values):
            h = plot_h * value / top
            x = LEFT + slot_w * i + slot_w * 0.1 + bar_w * s
            body.append(
                f'<rect class="{escape(css)}" data-value="{value}" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}"><title>{escape(name)}, {escape(slots[i])}: {value}</title></rect>'
            )
    return _frame(body, label=label, top=top, unit="", slots=slots, every=every)


def line_svg(
    slots: Sequence[str],
    values: Sequence[float | None],
    *,
    label: str,
    name: str,
    unit: str = "",
    limit: float | None = None,
    limit_name: str = "",
    every: int = 3,
) -> SafeString:
    """A line through the values of the slots (None: no point, a gap), and the limit as a dashed line."""
    top = _scale([v for v in values if v is not None], limit)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot_w = plot_w / max(len(slots), 1)
    body = []
    if limit is not None:
        y = TOP + plot_h - plot_h * limit / top
        body.append(
            f'<line class="limit" x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}">'
            f"<title>{escape(limit_name)}: {escape(_number(limit))}{escape(unit)}</title></line>"
        )
    path: list[str] = []
    for i, value in enumerate(values):
        if value is None:
            if path:
                body.append(f'<polyline class="series" points="{" ".join(path)}"/>')
            path = []
            continue
        x, y = LEFT + slot_w * i + slot_w / 2, TOP + plot_h - plot_h * value / top
        path.append(f"{x:.1f},{y:.1f}")
        body.append(
            f'<circle class="point" data-value="{_number(value)}" cx="{x:.1f}" cy="{y:.1f}" r="2.5">'
            f"<title>{escape(name)}, {escape(slots[i])}: {escape(_number(value))}{escape(unit)}</title></circle>"
        )
    if path:
        body.append(f'<polyline class="series" points="{" ".join(path)}"/>')
    return _frame(body, label=label, top=top, unit=unit, slots=slots, every=every)
