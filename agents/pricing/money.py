"""Money as integer minor units plus an ISO currency, and the one rounding rule of the engine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from agents.pricing.errors import PricingError
from core.money import format_money

_CURRENCY = re.compile(r"^[a-z]{3}$")
Exact = int | Decimal | Fraction


@dataclass(frozen=True)
class Money:
    """An amount in minor units of `currency` (lower-case ISO 4217, as Stripe writes it)."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError(f"money needs integer minor units, got {self.amount!r}")
        check_currency(self.currency)

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


def check_currency(currency: str) -> None:
    """Currencies are lower-case ISO 4217 codes, as Stripe and the catalog write them."""
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise PricingError(f"{currency!r} is not a lower-case ISO currency", code="bad_currency")


def round_minor(value: Exact) -> int:
    """An exact amount of minor units rounded half-even to a whole one (never through floats)."""
    # Fraction is exact whatever the size; its round() is half-even.
    return round(Fraction(value))


def same_currency(expected: str, other: str) -> None:
    """Refuse to mix currencies in one computation."""
    if expected != other:
        raise PricingError(
            f"currency mismatch: {other.upper()} where {expected.upper()} is expected",
            code="currency_mismatch",
        )
