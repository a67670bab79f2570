"""How facts look in an e-mail: money from minor units, instants in UTC. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime

from core.clock import from_timestamp
from core.money import format_money, minor_digits

__all__ = ["format_money", "format_utc", "minor_digits", "to_utc"]


def to_utc(value: datetime | str | int | float) -> datetime:
    """An aware UTC datetime from a datetime, an ISO 8601 string or Unix seconds."""
    if isinstance(value, bool):
        raise TypeError(f"not a point in time: {value!r}")
    if isinstance(value, int | float):
        return from_timestamp(value)
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise ValueError(f"point in time without a time zone: {value!r}")
    return moment.astimezone(UTC)


def format_utc(value: datetime | str | int | float) -> str:
    """`2026-11-20 14:03 UTC`."""
    return to_utc(value).strftime("%Y-%m-%d %H:%M UTC")
