"""Small server-side SVG charts: a line over days and bars (signed or per label).

Only presentation attributes are used (no inline style), so the console's CSP holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 640, 220, 64, 16, 14, 28
INK, MUTED, LINE, BRAND, GOOD, BAD = (
    "#1c2230",
    "#6b7385",
    "#e3e6ec",
    "#3b5bdb",
    "#2b8a3e",
    "#c92a2a",
)
Label = Callable[[int], str]


def _frame(body: list[str], low: int, high: int, label: Label) -> Markup:
    inner_h = HEIGHT - PAD_T - PAD_B
    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" role="img">']
    for i in range(5):
        value = low + (high - low) * i // 4
        y = PAD_T + inner_h - inner_h * i / 4
        parts.append(
            f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LINE}"/>'
        )
        parts.append(
            f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" font-size="11" fill="{MUTED}" '
            f'text-anchor="end">{escape(label(value))}</text>'
        )
    parts += body
    parts.append("</svg>")
    return Markup("".join(parts))


def _scale(values: Sequence[int]) -> tuple[int, int]:
    """Zero-based, and at least four units tall so the five gridlines get distinct labels."""
    low, high = min(0, *values), max(0, *values)
    return low, max(high, low + 4)


def _y(value: int, low: int, high: int) -> float:
    inner_h = HEIGHT - PAD_T - PAD_B
    return PAD_T + inner_h - inner_h * (value - low) / (high - low)


def _x_labels(labels: Sequence[str], xs: Sequence[float]) -> list[str]:
    step = max(1, len(labels) // 6)
    return [
        f'<text x="{x:.1f}" y="{HEIGHT - 8}" font-size="11" fill="{MUTED}" '
        f'text-anchor="middle">{escape(text)}</text>'
        for i, (text, x) in enumerate(zip(labels, xs, strict=True))
        if i % step == 0
    ]


def line_chart(points: Sequence[tuple[date, int]], label: Label) -> Markup:
    if not points:
        return Markup('<p class="muted">No snapshots in this range.</p>')
    values = [v for _, v in points]
    low, high = _scale(values)
    inner_w = WIDTH - PAD_L - PAD_R
    xs = [PAD_L + inner_w * (i / max(1, len(points) - 1)) for i in range(len(points))]
    path = " ".join(f"{x:.1f},{_y(v, low, high):.1f}" for x, v in zip(xs, values, strict=True))
    body = [f'<polyline points="{path}" fill="none" stroke="{BRAND}" stroke-width="2"/>']
    body += [
        f'<circle cx="{x:.1f}" cy="{_y(v, low, high):.1f}" r="2.5" fill="{BRAND}"/>'
        for x, v in zip(xs, values, strict=True)
    ]
    body += _x_labels([d.strftime("%b %d") for d, _ in points], xs)
    return _frame(body, low, high, label)


def bar_chart(bars: Sequence[tuple[str, int]], label: Label) -> Markup:
    """One bar per label; negative values point down in red."""
    if not bars:
        return Markup('<p class="muted">Nothing to show in this range.</p>')
    values = [v for _, v in bars]
    low, high = _scale(values)
    inner_w = WIDTH - PAD_L - PAD_R
    slot = inner_w / len(bars)
    zero = _y(0, low, high)
    body, xs = [], []
    for i, (_, value) in enumerate(bars):
        x = PAD_L + slot * i + slot * 0.15
        top = min(zero, _y(value, low, high))
        colour = GOOD if value >= 0 else BAD
        body.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{abs(_y(value, low, high) - zero):.1f}" fill="{colour}" rx="2"/>'
        )
        xs.append(x + slot * 0.35)
    body += _x_labels([name for name, _ in bars], xs)
    return _frame(body, low, high, label)


def stacked_bar_chart(
    bars: Sequence[tuple[str, Sequence[tuple[int, str]]]], label: Label
) -> Markup:
    """One stack per label: positive parts stack up from zero, negative parts down; each part
    is (value, colour)."""
    if not bars:
        return Markup('<p class="muted">Nothing to show in this range.</p>')
    ups = [sum(v for v, _ in parts if v > 0) for _, parts in bars]
    downs = [sum(v for v, _ in parts if v < 0) for _, parts in bars]
    low, high = _scale([*ups, *downs])
    slot = (WIDTH - PAD_L - PAD_R) / len(bars)
    body, xs = [], []
    for i, (_, parts) in enumerate(bars):
        x = PAD_L + slot * i + slot * 0.15
        up = down = 0
        for value, colour in parts:
            base = up if value > 0 else down
            top, bottom = sorted((_y(base, low, high), _y(base + value, low, high)))
            body.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{bottom - top:.1f}" fill="{colour}"/>'
            )
            up, down = (up + value, down) if value > 0 else (up, down + value)
        xs.append(x + slot * 0.35)
    body += _x_labels([name for name, _ in bars], xs)
    return _frame(body, low, high, label)
