"""Catalog products and prices as Stripe parameters, and the fingerprints that detect changes.

Pure functions. A price's fingerprint covers its immutable terms only (Stripe cannot change
an amount; a new fingerprint means a new Stripe price), a product's covers everything Stripe
holds for it (products are updated in place).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from agents.catalog.models import (
    FixedPrice,
    PackagePrice,
    PerUnitPrice,
    Price,
    Product,
    RecurringPrice,
    Tier,
    TieredGraduatedPrice,
    TieredVolumePrice,
)


class NotOnStripe(Exception):
    """This catalog price has no Stripe equivalent; the message says why."""


def fingerprint(params: dict[str, Any]) -> str:
    """A stable hash of Stripe parameters (key order and Decimal spelling do not matter)."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def product_params(product: Product) -> dict[str, Any]:
    """The product as Stripe keeps it; `plan` metadata is the key the billing mirror reads."""
    params: dict[str, Any] = {
        "name": product.name,
        "active": product.lifecycle == "active",
        "metadata": {
            "plan": product.key,
            "type": product.type,
            "contact_sales": str(product.contact_sales).lower(),
        },
    }
    if product.description:
        params["description"] = product.description
    return params


def price_active(product: Product, price: Price) -> bool:
    """Offered on Stripe only while both the product and the price are active."""
    return product.lifecycle == "active" and price.lifecycle == "active"


def price_params(product_key: str, price: Price) -> dict[str, Any]:
    """Prices API parameters, without `product` (its Stripe id is known only at sync time).

    Metadata `plan` is the product key and `price_key` the catalog key: the billing mirror
    derives a subscription's plan from `metadata.plan`, so no `lookup_key` is set.
    """
    params: dict[str, Any] = {
        "currency": price.currency,
        "nickname": price.nickname or price.key,
        "metadata": {"plan": product_key, "price_key": price.key},
    }
    interval = getattr(price, "interval", None)
    if interval is not None:
        params["recurring"] = {"interval": interval}
        if not isinstance(price, RecurringPrice):
            # Moneta meters usage itself and reports quantities; Stripe Billing Meters unused.
            params["recurring"]["usage_type"] = "licensed"
    if isinstance(price, FixedPrice | RecurringPrice):
        params["unit_amount"] = price.unit_amount
    elif isinstance(price, PerUnitPrice):
        params.update(_amount("unit_amount", price.unit_amount))
    elif isinstance(price, PackagePrice):
        params["unit_amount"] = price.unit_amount
        params["transform_quantity"] = {"divide_by": price.package_size, "round": price.rounding}
    elif isinstance(price, TieredGraduatedPrice | TieredVolumePrice):
        if interval is None:
            raise NotOnStripe("Stripe tiers need a recurring price: give the price an interval")
        params["billing_scheme"] = "tiered"
        params["tiers_mode"] = (
            "graduated" if price.revenue_model == "tiered_graduated" else "volume"
        )
        params["tiers"] = [_tier(tier) for tier in price.tiers]
    return params


def price_terms_fingerprint(product_key: str, price: Price) -> str:
    """The fingerprint of what cannot change on a Stripe price (the nickname can)."""
    params = price_params(product_key, price)
    del params["nickname"]
    return fingerprint(params)


def headline_amount(price: Price) -> int:
    """Whole minor units per unit for the `prices` row; 0 for fractional or tiered amounts."""
    amount = getattr(price, "unit_amount", None)
    if isinstance(amount, int):
        return amount
    if isinstance(amount, Decimal) and amount == amount.to_integral_value():
        return int(amount)
    return 0


def _tier(tier: Tier) -> dict[str, Any]:
    return {
        "up_to": "inf" if tier.up_to is None else tier.up_to,
        "flat_amount": tier.flat_amount,
        **_amount("unit_amount", tier.unit_amount),
    }


def _amount(field: str, amount: Decimal) -> dict[str, Any]:
    """Whole minor units as `unit_amount`, a fraction of one as `unit_amount_decimal` text."""
    if amount == amount.to_integral_value():
        return {field: int(amount)}
    return {f"{field}_decimal": format(amount.normalize(), "f")}
