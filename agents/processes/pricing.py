"""What a use of a process costs, per revenue model. Pure: integers in, integers out."""

from __future__ import annotations

from typing import Any

from core.errors import InvalidInput

PRODUCT_TYPES = ("service", "content", "license", "subscription")
REVENUE_MODELS = ("fixed", "usage_based", "tiered", "subscription")
_MAX_AMOUNT = 10**12


def validate_pricing(revenue_model: str, pricing: dict[str, Any]) -> dict[str, Any]:
    """The pricing of a model in its canonical form, or InvalidInput saying what is wrong.

    fixed / usage_based / subscription: `{"unit_amount": n}` per unit, use or period.
    tiered (graduated over the process's running total): `{"tiers": [{"up_to": 100,
    "unit_amount": 5}, ..., {"up_to": null, "unit_amount": 2}]}`.
    """
    if revenue_model not in REVENUE_MODELS:
        raise InvalidInput(f"revenue model is one of {REVENUE_MODELS}", code="bad_revenue_model")
    if revenue_model != "tiered":
        return {"unit_amount": _amount(pricing.get("unit_amount"), "unit_amount")}
    tiers = pricing.get("tiers")
    if not isinstance(tiers, list) or not tiers:
        raise InvalidInput("tiered pricing needs a list of tiers", code="bad_pricing")
    canonical, previous = [], 0
    for index, tier in enumerate(tiers):
        if not isinstance(tier, dict):
            raise InvalidInput("each tier is an object", code="bad_pricing")
        up_to, last = tier.get("up_to"), index == len(tiers) - 1
        if last != (up_to is None):
            raise InvalidInput(
                "only the last tier, and it must, have up_to null", code="bad_pricing"
            )
        if up_to is not None and (not _is_int(up_to) or up_to <= previous):
            raise InvalidInput("tier bounds must be whole and increasing", code="bad_pricing")
        canonical.append({"up_to": up_to, "unit_amount": _amount(tier.get("unit_amount"), "tier")})
        previous = up_to or previous
    return {"tiers": canonical}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _amount(value: Any, name: str) -> int:
    if not _is_int(value) or not 0 <= value <= _MAX_AMOUNT:
        raise InvalidInput(f"{name} must be whole minor units, 0 or more", code="bad_pricing")
    return int(value)


def usage_charge(
    revenue_model: str, pricing: dict[str, Any], used_before: int, quantity: int
) -> int:
    """Minor units owed for `quantity` more units after `used_before` units of running total."""
    if quantity <= 0:
        raise InvalidInput("quantity must be a positive whole number", code="bad_quantity")
    if revenue_model != "tiered":
        return int(pricing["unit_amount"]) * quantity
    total, floor, start, end = 0, 0, used_before, used_before + quantity
    for tier in pricing["tiers"]:
        ceiling = tier["up_to"] if tier["up_to"] is not None else end
        units = max(0, min(end, ceiling) - max(start, floor))
        total += units * int(tier["unit_amount"])
        floor = ceiling
        if floor >= end:
            break
    return total
