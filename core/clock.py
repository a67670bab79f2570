"""The one clock: timezone-aware UTC, overridable so tests control time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def utcnow() -> datetime:
    """Current time as an aware UTC datetime."""
    return _source()


def from_timestamp(seconds: int | float) -> datetime:
    """Unix seconds (as Stripe sends them) to an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Freeze `utcnow()` at `at` inside the block (tests only)."""
    global _source
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous = _source
    _source = lambda: at  # noqa: E731
    try:
        yield
    finally:
        _source = previous
