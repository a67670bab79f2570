"""How facts look in an e-mail: money from minor units, instants in UTC. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime

from core.clock import from_timestamp

# ISO 4217 codes whose Stripe amounts are not in hundredths (Stripe's list).
_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"}
    | {"PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
_THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def minor_digits(currency: str) -> int:
    """Decimal places of `currency`'s minor unit (2 unless listed)."""
    code = currency.upper()
    return 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2


def format_money(amount: int, currency: str) -> str:
    """`1234, "usd"` -> `USD 12.34`; `1500, "jpy"` -> `JPY 1,500`. Integers only, never floats."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError(f"money needs integer minor units, got {amount!r}")
    digits = minor_digits(currency)
    whole, fraction = divmod(abs(amount), 10**digits)
    number = f"{whole:,}" + (f".{fraction:0{digits}d}" if digits else "")
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency.upper()} {number}"


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
