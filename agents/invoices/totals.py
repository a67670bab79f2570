"""The money of an estimated invoice, in Stripe's order: per line, discount first, then tax.

Pure: charge lines in, discounted and taxed lines and totals out. A percentage discount comes
off each line (rounded half-even per line, as Stripe's `discount_amounts`); a fixed amount is
shared out over the lines in proportion to their amounts, the last line taking the rounding
rest, so the parts always add up to the coupon. Tax is computed per line on what is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from agents.pricing.discounts import AmountOff, Discount, PercentOff, discount_amount
from agents.pricing.money import Money, round_minor, same_currency
from agents.pricing.taxes import TaxRate, apply_tax


@dataclass(frozen=True)
class ChargedLine:
    """A line after discount and tax: `amount - discount + tax` when the tax is exclusive."""

    amount: int
    discount: int
    tax: int


@dataclass(frozen=True)
class InvoiceMoney:
    lines: tuple[ChargedLine, ...]
    subtotal: int
    discount: int
    tax: int
    total: int


def invoice_money(
    amounts: list[int], currency: str, discount: Discount | None, tax: TaxRate | None
) -> InvoiceMoney:
    """Discount, tax and totals of lines billing `amounts` (minor units of `currency`)."""
    offs = _discounts(amounts, currency, discount)
    lines = []
    for amount, off in zip(amounts, offs, strict=True):
        taxed = apply_tax(Money(amount - off, currency), tax) if tax and amount > off else None
        lines.append(ChargedLine(amount, off, taxed.tax.amount if taxed else 0))
    subtotal = sum(amounts)
    total_discount = sum(offs)
    total_tax = sum(line.tax for line in lines)
    inclusive = tax is not None and tax.inclusive
    total = subtotal - total_discount + (0 if inclusive else total_tax)
    return InvoiceMoney(tuple(lines), subtotal, total_discount, total_tax, total)


def _discounts(amounts: list[int], currency: str, discount: Discount | None) -> list[int]:
    positive = [max(a, 0) for a in amounts]
    match discount:
        case None:
            return [0] * len(amounts)
        case PercentOff():
            return [discount_amount(Money(a, currency), discount).amount for a in positive]
        case AmountOff():
            same_currency(currency, discount.amount.currency)
            return _shared(positive, min(discount.amount.amount, sum(positive)))


def _shared(amounts: list[int], off: int) -> list[int]:
    """`off` split over `amounts` pro rata; the last line with an amount takes the rest."""
    base = sum(amounts)
    if base == 0:
        return [0] * len(amounts)
    shares = [round_minor(Fraction(off * a, base)) for a in amounts]
    last = max(i for i, a in enumerate(amounts) if a > 0)
    shares[last] = off - sum(shares[:last]) - sum(shares[last + 1 :])
    return shares
