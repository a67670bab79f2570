"""Usage periods: calendar months in UTC. Pure functions over aware datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# How far back an event may be dated, and how far ahead (client clocks drift).
MAX_EVENT_AGE = timedelta(days=35)
MAX_EVENT_LEAD = timedelta(minutes=5)


@dataclass(frozen=True)
class Period:
    """[start, end): one calendar month in UTC."""

    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m")


def period_of(at: datetime) -> Period:
    """The month holding `at`."""
    at = at.astimezone(UTC)
    start = datetime(at.year, at.month, 1, tzinfo=UTC)
    end = datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC)
    return Period(start, end)


def previous_period(period: Period) -> Period:
    return period_of(period.start - timedelta(microseconds=1))


def parse_period(label: str) -> Period:
    """`2026-03` -> March 2026; ValueError on anything else."""
    try:
        start = datetime.strptime(label, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{label!r} is not a period (YYYY-MM)") from None
    return period_of(start)


def timestamp_problem(at: datetime, now: datetime) -> str | None:
    """Why `at` cannot be accepted at `now` (too old, in the future), or None."""
    if at < now - MAX_EVENT_AGE:
        return "timestamp_too_old"
    if at > now + MAX_EVENT_LEAD:
        return "timestamp_in_future"
    return None
