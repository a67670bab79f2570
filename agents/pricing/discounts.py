"""Discounts applied to a subtotal before tax: a percentage or a fixed amount, never below zero."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from agents.pricing.errors import PricingError
from agents.pricing.money import Money, round_minor, same_currency


@dataclass(frozen=True)
class PercentOff:
    """`percent` (0 < percent <= 100) off the subtotal, rounded half-even."""

    percent: Decimal

    def __post_init__(self) -> None:
        if (
            not isinstance(self.percent, Decimal)
            or not self.percent.is_finite()
            or not 0 < self.percent <= 100
        ):
            raise PricingError(
                f"percent off must be a Decimal in (0, 100], got {self.percent!r}",
                code="bad_discount",
            )


@dataclass(frozen=True)
class AmountOff:
    """A fixed amount off, in the subtotal's currency; capped at the subtotal."""

    amount: Money

    def __post_init__(self) -> None:
        if self.amount.amount <= 0:
            raise PricingError(
                f"amount off must be positive, got {self.amount}", code="bad_discount"
            )


Discount = PercentOff | AmountOff


def discount_amount(subtotal: Money, discount: Discount) -> Money:
    """How much `discount` takes off `subtotal` (never more than the subtotal, never negative)."""
    if subtotal.amount < 0:
        raise PricingError(f"cannot discount a negative subtotal {subtotal}", code="bad_amount")
    match discount:
        case PercentOff():
            off = round_minor(subtotal.amount * Fraction(discount.percent) / 100)
        case AmountOff():
            same_currency(subtotal.currency, discount.amount.currency)
            off = discount.amount.amount
    return Money(min(off, subtotal.amount), subtotal.currency)
