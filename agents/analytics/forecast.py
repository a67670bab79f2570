"""A 3-month MRR forecast: the least-squares linear trend of daily MRR, extended. Pure.

Deterministic and exact: the fit uses Fractions over (days since the first point, MRR in
minor units); each forecast point is the trend at the same day of month 1, 2 and 3 months
after the last day (clamped to the month's length), rounded half-even to the minor unit and
never below zero. Needs at least two days.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

HORIZON_MONTHS = 3
METHOD = (
    "least-squares linear trend of daily MRR from {first} to {last} ({days} days), "
    "evaluated 1, 2 and 3 months after {last}, rounded half-even, never below zero"
)


def months_after(day: date, months: int) -> date:
    """The same day of month `months` later, or that month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def linear_fit(points: Sequence[tuple[int, int]]) -> tuple[Fraction, Fraction]:
    """(intercept, slope) of the least-squares line through (x, y); x must vary."""
    n = len(points)
    sx = sum(x for x, _ in points)
    sy = sum(y for _, y in points)
    sxx = sum(x * x for x, _ in points)
    sxy = sum(x * y for x, y in points)
    denominator = n * sxx - sx * sx
    if denominator == 0:
        raise ValueError("a linear fit needs at least two distinct x values")
    slope = Fraction(n * sxy - sx * sy, denominator)
    return Fraction(sy) / n - slope * Fraction(sx, n), slope


def _minor_units(value: Fraction) -> int:
    return max(0, round(value))  # Fraction rounds half to even, exactly


def forecast_mrr(series: Sequence[tuple[date, int]]) -> dict[str, Any]:
    """MRR 1-3 months after the last day of `series` (day order), with the method stated."""
    if len(series) < 2:
        return {"method": None, "points": [], "reason": "needs at least two days of MRR"}
    first, last = series[0][0], series[-1][0]
    intercept, slope = linear_fit([((d - first).days, mrr) for d, mrr in series])
    points = []
    for months in range(1, HORIZON_MONTHS + 1):
        target = months_after(last, months)
        value = intercept + slope * (target - first).days
        points.append({"day": target.isoformat(), "mrr": _minor_units(value)})
    method = METHOD.format(first=first, last=last, days=len(series))
    return {
        "method": method,
        "slope_per_day": str(_rounded(slope)),
        "points": points,
        "reason": None,
    }


def _rounded(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
