"""The revenue report as a PNG: stacked bars of MRR movements per period and the MRR line.

Drawn with Pillow (no display, no matplotlib). Gains (new, expansion, reactivation) stack up
from zero and losses (contraction, churn) down, on the left axis; MRR at each period's end is
a line on the right axis. The plotted figures are embedded in the PNG as a `moneta:series`
text chunk, so a reader (or a test) can check the chart against the snapshots it came from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from io import BytesIO
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from core.money import format_money, minor_digits

WIDTH, HEIGHT = 1000, 560
LEFT, RIGHT, TOP, BOTTOM = 90, 90, 70, 80
INK, MUTED, GRID, MRR_LINE = "#1c2230", "#6b7385", "#e3e6ec", "#3b5bdb"
GAINS = (("new", "#2b8a3e"), ("expansion", "#69db7c"), ("reactivation", "#1098ad"))
LOSSES = (("contraction", "#f08c00"), ("churn", "#c92a2a"))
TICKS = 4
SERIES_KEY = "moneta:series"

Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ImportError):  # Pillow built without FreeType: the bitmap font
        return ImageFont.load_default()


def chart_series(report: dict[str, Any]) -> dict[str, Any]:
    """The figures the chart plots, per period (also embedded in the PNG)."""
    keys = ("mrr", *(f"mrr_{name}" for name, _ in GAINS + LOSSES))
    return {
        "currency": report["currency"],
        "plan": report["plan"],
        "periods": [
            {"period": row["period"]} | {k: row[k] for k in keys} for row in report["periods"]
        ],
    }


def nice_ticks(low: int, high: int) -> list[int]:
    """Round tick values (minor units) from at most `low` to at least `high`, zero included,
    about TICKS steps of 1, 2 or 5 times a power of ten."""
    span = max(high - low, 1)
    magnitude = 1
    while magnitude * 10 * TICKS <= span:
        magnitude *= 10
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude * TICKS >= span)
    first, last = low // step * step, -(-high // step) * step
    return list(range(first, max(last, first + step) + 1, step))


def _axis_label(value: int, currency: str, step: int) -> str:
    """Without the code (the title states the currency); whole units when the step allows."""
    text = format_money(abs(value), currency).split(" ", 1)[1]
    if step % 10 ** minor_digits(currency) == 0:
        text = text.split(".")[0]
    return f"-{text}" if value < 0 else text


def _scale(ticks: Sequence[int]) -> Any:
    low, span, top, bottom = ticks[0], max(ticks[-1] - ticks[0], 1), TOP, HEIGHT - BOTTOM
    return lambda value: bottom - (bottom - top) * (value - low) / span


def _stacks(rows: Sequence[dict[str, Any]]) -> tuple[int, int]:
    up = max((sum(r[f"mrr_{n}"] for n, _ in GAINS) for r in rows), default=0)
    down = max((sum(r[f"mrr_{n}"] for n, _ in LOSSES) for r in rows), default=0)
    return -down, up


def _axes(
    draw: ImageDraw.ImageDraw, left: Sequence[int], right: Sequence[int], currency: str
) -> None:
    """Gridlines with movement labels on the left, MRR labels on the right."""
    font, y_left, y_right = _font(12), _scale(left), _scale(right)
    for value in left:
        y = y_left(value)
        draw.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=MUTED if value == 0 else GRID)
        label = _axis_label(value, currency, left[1] - left[0])
        draw.text((LEFT - 8, y), label, fill=MUTED, font=font, anchor="rm")
    for value in right:
        label = _axis_label(value, currency, right[1] - right[0])
        draw.text((WIDTH - RIGHT + 8, y_right(value)), label, fill=MRR_LINE, font=font, anchor="lm")


def _bars(draw: ImageDraw.ImageDraw, rows: Sequence[dict[str, Any]], y: Any) -> list[float]:
    """Draw the stacks; return each period's centre x."""
    slot = (WIDTH - LEFT - RIGHT) / max(len(rows), 1)
    centres = []
    for i, row in enumerate(rows):
        x0, x1 = LEFT + slot * i + slot * 0.2, LEFT + slot * (i + 1) - slot * 0.2
        for names, sign in ((GAINS, 1), (LOSSES, -1)):
            base = 0
            for name, colour in names:
                amount = sign * row[f"mrr_{name}"]
                if amount:
                    top, bottom = sorted((y(base), y(base + amount)))
                    draw.rectangle([(x0, top), (x1, max(bottom, top + 1))], fill=colour)
                    base += amount
        centres.append((x0 + x1) / 2)
    return centres


def _legend(draw: ImageDraw.ImageDraw) -> None:
    font, x = _font(13), LEFT
    for name, colour in (*GAINS, *LOSSES, ("MRR (right axis)", MRR_LINE)):
        draw.rectangle([(x, HEIGHT - 28), (x + 12, HEIGHT - 16)], fill=colour)
        draw.text((x + 18, HEIGHT - 22), name, fill=INK, font=font, anchor="lm")
        x += 26 + int(draw.textlength(name, font=font))


def render_revenue_chart(report: dict[str, Any]) -> bytes:
    """The PNG bytes of `report` (from `agents.analytics.revenue.revenue_report`)."""
    series = chart_series(report)
    rows, currency = series["periods"], report["currency"]
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    left = nice_ticks(*_stacks(rows))
    right = nice_ticks(0, max((r["mrr"] for r in rows), default=0))
    _axes(draw, left, right, currency)
    y_left, y_right = _scale(left), _scale(right)
    centres = _bars(draw, rows, y_left)
    line = [(x, y_right(r["mrr"])) for x, r in zip(centres, rows, strict=True)]
    if len(line) > 1:
        draw.line(line, fill=MRR_LINE, width=3)
    for x, y in line:
        draw.ellipse([(x - 4, y - 4), (x + 4, y + 4)], fill=MRR_LINE)
    step = max(1, len(rows) // 12)
    for i, (x, row) in enumerate(zip(centres, rows, strict=True)):
        if i % step == 0:
            draw.text(
                (x, HEIGHT - BOTTOM + 14), row["period"], fill=MUTED, font=_font(12), anchor="mm"
            )
    title = f"MRR and its movements, {currency.upper()}, {report['start']} to {report['end']}"
    draw.text((LEFT, 28), title, fill=INK, font=_font(18), anchor="lm")
    _legend(draw)
    info = PngInfo()
    info.add_text(SERIES_KEY, json.dumps(series, sort_keys=True))
    out = BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()
