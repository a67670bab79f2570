"""The catalog's plans as recommendations compare them: monthly price and limits. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agents.catalog.models import Catalog, Product, RecurringPrice


@dataclass(frozen=True)
class PlanOption:
    """A plan at its catalog price: `monthly_price` None means contact sales."""

    key: str
    name: str
    monthly_price: int | None
    limits: Mapping[str, int | None]  # metric -> limit; None: unlimited

    @property
    def contact_sales(self) -> bool:
        return self.monthly_price is None


def monthly_price(product: Product, currency: str, *, offered_only: bool) -> int | None:
    """The product's monthly recurring price in `currency` (retired ones too unless
    `offered_only`: a subscriber keeps a retired price); None when it has none."""
    prices = product.offerable_prices() if offered_only else product.prices
    for price in prices:
        if (
            isinstance(price, RecurringPrice)
            and price.interval == "month"
            and price.currency == currency
        ):
            return price.unit_amount
    return None


def option_of(product: Product, currency: str, *, offered_only: bool) -> PlanOption | None:
    """The plan as an option: free plans cost 0, contact-sales plans have no price; None for a
    plan without a monthly price in `currency` (it cannot be compared)."""
    if product.free_plan:
        price: int | None = 0
    elif product.contact_sales:
        price = None
    else:
        price = monthly_price(product, currency, offered_only=offered_only)
        if price is None:
            return None
    return PlanOption(product.key, product.name, price, dict(product.limits))


def plan_ladder(catalog: Catalog, currency: str) -> list[PlanOption]:
    """Plans on offer, cheapest first, contact-sales plans last."""
    options = [
        option_of(product, currency, offered_only=True)
        for product in catalog.products
        if product.lifecycle == "active" and (product.features or product.limits)
    ]
    found = [option for option in options if option is not None]
    return sorted(found, key=lambda o: (o.contact_sales, o.monthly_price or 0))


def plan_currency(catalog: Catalog, product: Product | None) -> str:
    """The currency to compare plans in: the plan's own, else the first plan price's."""
    for candidate in ([product] if product else []) + list(catalog.products):
        for price in candidate.prices:
            if isinstance(price, RecurringPrice) and (candidate.features or candidate.limits):
                return price.currency
    return "usd"
