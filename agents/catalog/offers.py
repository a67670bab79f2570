"""The catalog as shown to buyers: products on offer with their prices' amounts in words.

Pure. Amounts stay integer minor units (or Decimal text for fractions of one) next to their
formatted form, so clients never parse money strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from agents.catalog.models import (
    Catalog,
    PackagePrice,
    PerUnitPrice,
    Price,
    Product,
    RecurringPrice,
    TieredGraduatedPrice,
    TieredVolumePrice,
)
from core.money import format_money, minor_digits


def format_unit_amount(amount: Decimal, currency: str) -> str:
    """Money for a unit price that may be a fraction of a minor unit: 0.005 cents: USD 0.00005."""
    if amount == amount.to_integral_value():
        return format_money(int(amount), currency)
    major = (amount / Decimal(10) ** minor_digits(currency)).normalize()
    return f"{currency.upper()} {major:f}"


def headline(price: Price) -> str:
    """The price in a few words: `USD 99.00 / month`, `USD 0.05 per 1000`, `3 tiers`."""
    if isinstance(price, TieredGraduatedPrice | TieredVolumePrice):
        text = f"{len(price.tiers)} tiers ({price.revenue_model.removeprefix('tiered_')})"
    elif isinstance(price, PerUnitPrice):
        text = f"{format_unit_amount(price.unit_amount, price.currency)} per unit"
    elif isinstance(price, PackagePrice):
        text = f"{format_money(price.unit_amount, price.currency)} per {price.package_size}"
    else:
        text = format_money(price.unit_amount, price.currency)
    interval = getattr(price, "interval", None)
    return f"{text} / {interval}" if interval else text


def offered_products(catalog: Catalog) -> list[dict[str, Any]]:
    """Active products with their offerable prices; contact-sales products without prices."""
    listed = []
    for product in catalog.products:
        prices = product.offerable_prices()
        if prices or (product.contact_sales and product.lifecycle == "active"):
            listed.append(_product(product, prices))
    return listed


def _product(product: Product, prices: tuple[Price, ...]) -> dict[str, Any]:
    return {
        "key": product.key,
        "name": product.name,
        "description": product.description,
        "type": product.type,
        "contact_sales": product.contact_sales,
        "features": dict(product.features),
        "limits": dict(product.limits),
        "prices": [_price(price) for price in prices],
    }


def _price(price: Price) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "key": price.key,
        "nickname": price.nickname,
        "revenue_model": price.revenue_model,
        "currency": price.currency,
        "interval": getattr(price, "interval", None),
        "formatted": headline(price),
    }
    if isinstance(price, TieredGraduatedPrice | TieredVolumePrice):
        shown["tiers"] = [
            {
                "up_to": tier.up_to,
                "unit_amount": str(tier.unit_amount),
                "unit_amount_formatted": format_unit_amount(tier.unit_amount, price.currency),
                "flat_amount": tier.flat_amount,
            }
            for tier in price.tiers
        ]
    else:
        amount = price.unit_amount
        shown["unit_amount"] = str(amount) if isinstance(amount, Decimal) else amount
    if isinstance(price, PackagePrice):
        shown["package_size"] = price.package_size
    if isinstance(price, RecurringPrice):
        shown["trial_days"] = price.trial_days
    return shown
