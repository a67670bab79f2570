"""The amount a quantity costs under each revenue model, rounded half-even to a minor unit."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from agents.pricing.money import Money, round_minor
from agents.pricing.prices import (
    FixedPrice,
    PackagePrice,
    PerUnitPrice,
    Price,
    RecurringPrice,
    Tier,
    TieredGraduatedPrice,
    TieredVolumePrice,
)
from agents.pricing.quantities import Quantity, check_quantity


@dataclass(frozen=True)
class TierCharge:
    """What one tier of a graduated price bills: its units and their amount (one invoice line)."""

    tier: int
    units: Quantity
    amount: int


def amount_for(price: Price, quantity: Quantity) -> Money:
    """The amount `quantity` units cost under `price` (for recurring: per interval)."""
    match price:
        case FixedPrice() | RecurringPrice():
            amount = int(check_quantity(quantity, whole=True)) * price.unit_amount
        case PerUnitPrice():
            amount = round_minor(Fraction(price.unit_amount) * Fraction(check_quantity(quantity)))
        case TieredGraduatedPrice():
            amount = sum(charge.amount for charge in graduated_charges(price, quantity))
        case TieredVolumePrice():
            amount = _volume_amount(price, check_quantity(quantity))
        case PackagePrice():
            amount = package_blocks(price, quantity) * price.unit_amount
    return Money(amount, price.currency)


def graduated_charges(price: TieredGraduatedPrice, quantity: Quantity) -> tuple[TierCharge, ...]:
    """One charge per tier the quantity reaches, each rounded on its own as Stripe's lines are."""
    quantity = check_quantity(quantity)
    charges: list[TierCharge] = []
    lower: Quantity = 0
    for index, tier in enumerate(price.tiers):
        if quantity <= lower:
            break
        upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
        units = upper - lower
        charges.append(TierCharge(index, units, _tier_amount(tier, units)))
        lower = upper
    return tuple(charges)


def package_blocks(price: PackagePrice, quantity: Quantity) -> int:
    """Blocks billed for `quantity`: a partial block counts as a whole one when rounding up."""
    blocks = Fraction(check_quantity(quantity)) / price.package_size
    return int(blocks) if price.rounding == "down" else -(-blocks.numerator // blocks.denominator)


def _volume_amount(price: TieredVolumePrice, quantity: Quantity) -> int:
    """Every unit at the rate of the tier the whole quantity falls in; nothing for no units."""
    if quantity == 0:
        return 0
    tier = next(t for t in price.tiers if t.up_to is None or quantity <= t.up_to)
    return _tier_amount(tier, quantity)


def _tier_amount(tier: Tier, units: Quantity) -> int:
    return round_minor(Fraction(tier.unit_amount) * Fraction(units) + tier.flat_amount)
