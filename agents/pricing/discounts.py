"""Discounts applied to a subtotal before tax: a percentage or a fixed amount, never below zero."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from agents.partners.commission import add_months
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


Duration = Literal["once", "repeating", "forever"]


@dataclass(frozen=True)
class DiscountTerm:
    """How long a discount lasts, as Stripe coupons say it: once, N months, or forever."""

    duration: Duration
    months: int | None = None

    def __post_init__(self) -> None:
        if (self.duration == "repeating") != (self.months is not None) or (
            self.months is not None and self.months < 1
        ):
            raise PricingError(
                f"a {self.duration} discount takes months only when repeating, got {self.months!r}",
                code="bad_discount",
            )


def discount_covers(
    term: DiscountTerm, *, started: datetime, period_start: datetime, invoices_before: int
) -> bool:
    """Whether an invoice gets a discount redeemed at `started` (Stripe's rules).

    `once` covers the first invoice after redemption only; `repeating` every invoice whose
    period starts within `months` calendar months of `started`; `forever` every later one.
    `invoices_before` counts the invoices already billed since the redemption.
    """
    if period_start < started or invoices_before < 0:
        return False
    match term.duration:
        case "once":
            return invoices_before == 0
        case "repeating":
            assert term.months is not None
            return period_start < add_months(started, term.months)
        case "forever":
            return True
