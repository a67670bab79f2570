"""Tax on a (discounted) amount at a percentage rate, added on top or carved out of the price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from agents.pricing.errors import PricingError
from agents.pricing.money import Money, round_minor


@dataclass(frozen=True)
class TaxRate:
    """`percent` of tax; `inclusive` when prices already contain it (EU consumer prices)."""

    percent: Decimal
    inclusive: bool = False

    def __post_init__(self) -> None:
        if (
            not isinstance(self.percent, Decimal)
            or not self.percent.is_finite()
            or not 0 <= self.percent <= 100
        ):
            raise PricingError(
                f"tax percent must be a Decimal in [0, 100], got {self.percent!r}",
                code="bad_tax_rate",
            )


@dataclass(frozen=True)
class TaxedAmount:
    """`net + tax == gross`; for an inclusive rate the input was the gross."""

    net: Money
    tax: Money
    gross: Money


def apply_tax(amount: Money, rate: TaxRate) -> TaxedAmount:
    """Split `amount` into net, tax and gross under `rate`, the tax rounded half-even."""
    if amount.amount < 0:
        raise PricingError(f"cannot tax a negative amount {amount}", code="bad_amount")
    percent = Fraction(rate.percent)
    if rate.inclusive:
        tax = round_minor(amount.amount * percent / (100 + percent))
        net = amount.amount - tax
    else:
        tax = round_minor(amount.amount * percent / 100)
        net = amount.amount
    currency = amount.currency
    return TaxedAmount(Money(net, currency), Money(tax, currency), Money(net + tax, currency))
