"""What a subscription costs and what a customer may change it to: pure rules, no I/O.

Upgrade or downgrade is decided on monthly-normalised amounts (a yearly price counts as a
twelfth per month), so Starter yearly -> Pro monthly is an upgrade and Pro monthly -> Pro
yearly a downgrade (cheaper per month: it waits for the period end, no credit to game).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from agents.catalog.models import Catalog, RecurringPrice
from core.calendar_months import MONTHS_PER_INTERVAL
from core.errors import Conflict, InvalidInput

MAX_QUANTITY = 10_000
# Statuses in which a subscription still bills and can be changed.
CHANGEABLE_STATUSES = frozenset({"active", "trialing", "past_due"})

Direction = Literal["upgrade", "downgrade"]


@dataclass(frozen=True)
class PlanTerms:
    """One plan as billed: `unit_amount` minor units per `interval_count` intervals, per unit."""

    price_key: str | None
    unit_amount: int
    currency: str
    interval: str
    interval_count: int
    quantity: int

    @property
    def total(self) -> int:
        """The amount of one billing period for the whole quantity."""
        return self.unit_amount * self.quantity

    @property
    def monthly(self) -> Fraction:
        return Fraction(self.total, MONTHS_PER_INTERVAL[self.interval] * self.interval_count)

    def with_quantity(self, quantity: int) -> PlanTerms:
        return replace(self, quantity=quantity)


@dataclass(frozen=True)
class SubscriptionState:
    """The parts of the mirrored subscription a change depends on."""

    status: str
    period_start: datetime
    period_end: datetime
    cancel_at_period_end: bool
    collection_paused: bool


def direction(current: PlanTerms, target: PlanTerms) -> Direction:
    """Dearer per month: an upgrade (now, prorated). Otherwise a downgrade (at the period end)."""
    return "upgrade" if target.monthly > current.monthly else "downgrade"


def check_quantity(quantity: object) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise InvalidInput("quantity must be a whole number", code="invalid_quantity")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(
            f"quantity must be between 1 and {MAX_QUANTITY}, got {quantity}",
            code="invalid_quantity",
        )
    return quantity


def check_changeable(state: SubscriptionState) -> None:
    if state.status not in CHANGEABLE_STATUSES:
        raise Conflict(
            f"the subscription is {state.status}; only a live one can change",
            code="subscription_not_active",
        )


def target_terms(catalog: Catalog, price_key: str, quantity: int, currency: str) -> PlanTerms:
    """The terms of a plan a customer may move to now, or the reason they may not."""
    if price_key not in {p.key for product in catalog.products for p in product.prices}:
        raise InvalidInput(f"unknown price {price_key!r}", code="unknown_price")
    price = catalog.price(price_key)
    product = catalog.product_of(price_key)
    if not isinstance(price, RecurringPrice) or price not in product.offerable_prices():
        raise InvalidInput(
            f"price {price_key!r} is not offered as a subscription plan", code="price_not_offered"
        )
    if price.currency != currency:
        raise InvalidInput(
            f"price {price_key!r} is in {price.currency.upper()}, "
            f"the subscription in {currency.upper()}",
            code="currency_mismatch",
        )
    return PlanTerms(price.key, price.unit_amount, price.currency, price.interval, 1, quantity)


def limits_exceeded(limits: dict[str, int | None], used: dict[str, Decimal]) -> list[str]:
    """Metrics whose current usage is above the target plan's limit (None: unlimited)."""
    return sorted(
        metric
        for metric, limit in limits.items()
        if limit is not None and used.get(metric, Decimal(0)) > limit
    )
