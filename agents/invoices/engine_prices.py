"""Catalog prices (validated YAML models) as the pricing engine's price models."""

from __future__ import annotations

from agents.catalog import models as catalog
from agents.pricing import prices as engine


def engine_price(price: catalog.Price) -> engine.Price:
    """The engine's model of a catalog price: same amounts, same revenue model."""
    match price:
        case catalog.FixedPrice():
            return engine.FixedPrice(price.currency, price.unit_amount)
        case catalog.RecurringPrice():
            return engine.RecurringPrice(price.currency, price.unit_amount, price.interval)
        case catalog.PerUnitPrice():
            return engine.PerUnitPrice(price.currency, price.unit_amount)
        case catalog.TieredGraduatedPrice():
            return engine.TieredGraduatedPrice(price.currency, _tiers(price.tiers))
        case catalog.TieredVolumePrice():
            return engine.TieredVolumePrice(price.currency, _tiers(price.tiers))
        case catalog.PackagePrice():
            return engine.PackagePrice(
                price.currency, price.unit_amount, price.package_size, price.rounding
            )
    raise TypeError(f"unknown catalog price {price!r}")


def _tiers(tiers: tuple[catalog.Tier, ...]) -> tuple[engine.Tier, ...]:
    return tuple(engine.Tier(t.up_to, t.unit_amount, t.flat_amount) for t in tiers)
