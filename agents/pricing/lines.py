"""One priced line: the amount for a quantity, less its discount, then taxed."""

from __future__ import annotations

from dataclasses import dataclass

from agents.pricing.amounts import amount_for
from agents.pricing.discounts import Discount, discount_amount
from agents.pricing.money import Money
from agents.pricing.prices import Price
from agents.pricing.quantities import Quantity
from agents.pricing.taxes import TaxRate, apply_tax


@dataclass(frozen=True)
class PricedLine:
    """`subtotal - discount = taxable`, `net + tax = total`; net is taxable unless tax-inclusive."""

    subtotal: Money
    discount: Money
    taxable: Money
    net: Money
    tax: Money
    total: Money


def price_line(
    price: Price,
    quantity: Quantity,
    *,
    discount: Discount | None = None,
    tax: TaxRate | None = None,
) -> PricedLine:
    """The money of one line: the discount comes off before the tax is computed."""
    subtotal = amount_for(price, quantity)
    off = discount_amount(subtotal, discount) if discount else Money(0, subtotal.currency)
    taxable = Money(subtotal.amount - off.amount, subtotal.currency)
    taxed = apply_tax(taxable, tax) if tax else None
    return PricedLine(
        subtotal=subtotal,
        discount=off,
        taxable=taxable,
        net=taxed.net if taxed else taxable,
        tax=taxed.tax if taxed else Money(0, subtotal.currency),
        total=taxed.gross if taxed else taxable,
    )
