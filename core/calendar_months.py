"""Calendar arithmetic of billing intervals, shared by the previews and the offline sandbox."""

from __future__ import annotations

import calendar
from datetime import datetime

MONTHS_PER_INTERVAL = {"month": 1, "year": 12}


def add_interval(start: datetime, interval: str, count: int = 1) -> datetime:
    """`start` plus `count` intervals, on the same day of the month (clamped, as Stripe does)."""
    months = MONTHS_PER_INTERVAL[interval] * count
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, _days_in(year, month)))


def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]
