"""Checks that span fields: unique keys, tier order, unpriced plans, one free plan."""

from __future__ import annotations

from collections.abc import Sequence

from agents.catalog.lines import FieldPath, Problem, render_path
from agents.catalog.models import Price, Product, TieredGraduatedPrice, TieredVolumePrice


def check_catalog(
    products: Sequence[tuple[FieldPath, Product]], prices: Sequence[tuple[FieldPath, Price]]
) -> list[Problem]:
    """Every cross-field problem among the products and prices that are valid on their own."""
    problems = _duplicate_keys(products) + _duplicate_keys(prices) + _plan_problems(products)
    for path, product in products:
        problems += _pricing_problems(path, product)
    for path, price in prices:
        if isinstance(price, TieredGraduatedPrice | TieredVolumePrice):
            problems += _tier_problems(path, price)
    return problems


def _duplicate_keys(items: Sequence[tuple[FieldPath, Product | Price]]) -> list[Problem]:
    first_seen: dict[str, FieldPath] = {}
    problems: list[Problem] = []
    for path, item in items:
        if item.key in first_seen:
            where = render_path(first_seen[item.key])
            problems.append(Problem((*path, "key"), f"duplicate key {item.key!r} (also {where})"))
        else:
            first_seen[item.key] = path
    return problems


def _pricing_problems(path: FieldPath, product: Product) -> list[Problem]:
    unpriced = product.contact_sales or product.free_plan
    if unpriced and product.prices:
        return [Problem((*path, "prices"), "a contact-sales or free plan has no public price")]
    if not unpriced and not product.prices:
        return [Problem(path, "needs at least one price, or contact_sales: true")]
    return []


def _plan_problems(products: Sequence[tuple[FieldPath, Product]]) -> list[Problem]:
    """One free plan at most; a plan names each feature once, as a switch or as a limit."""
    free = [path for path, product in products if product.free_plan]
    problems = [
        Problem((*path, "free_plan"), "only one product may be the free plan") for path in free[1:]
    ]
    for path, product in products:
        problems += [
            Problem((*path, "limits", feature), "also listed under features")
            for feature in product.limits
            if feature in product.features
        ]
    return problems


def _tier_problems(
    path: FieldPath, price: TieredGraduatedPrice | TieredVolumePrice
) -> list[Problem]:
    """Bounds strictly increase and only the last tier is unbounded (`up_to: null`)."""
    problems: list[Problem] = []
    last = len(price.tiers) - 1
    previous: int | None = None
    for index, tier in enumerate(price.tiers):
        where = (*path, "tiers", index, "up_to")
        if tier.up_to is None:
            if index != last:
                problems.append(Problem(where, "only the last tier may be unbounded (null)"))
            continue
        if index == last:
            problems.append(Problem(where, "the last tier must be unbounded (up_to: null)"))
        if previous is not None and tier.up_to <= previous:
            problems.append(Problem(where, f"must be greater than the previous tier's {previous}"))
        previous = tier.up_to
    return problems
