"""Money as people read it: integer minor units and an ISO currency to `USD 12.34`."""

from __future__ import annotations

from core.errors import InvalidInput

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


def parse_amount(text: str, currency: str) -> int:
    """`"15.00", "usd"` -> 1500, as an operator types it; refuses signs, junk and extra decimals."""
    cleaned = text.strip().replace(",", "")
    whole, _, fraction = cleaned.partition(".")
    digits = minor_digits(currency)
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > digits:
        places = f"at most {digits} decimals" if digits else "no decimals"
        raise InvalidInput(
            f"{text!r} is not an amount of {currency.upper()} ({places})", code="bad_amount"
        )
    return int(whole) * 10**digits + int(fraction.ljust(digits, "0") or 0)
