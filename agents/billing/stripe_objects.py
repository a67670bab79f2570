"""Read Stripe object dicts into plain values, for API 2026-10-28.endive and the legacy layout.

Pure functions: no session, no network. Endive keeps subscription periods on items, links
invoices to subscriptions through `parent.subscription_details` and lists invoice payments
under `payments`; localstripe still emits top-level periods, `invoice.subscription` and
`invoice.charge`. Every reader accepts both. Invoices are read in `stripe_invoices`; charges,
refunds, disputes and checkout sessions in `stripe_payments`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.clock import from_timestamp

ACTIVE_STATUSES = frozenset({"active", "trialing"})
FULFILLABLE_PAYMENT_STATUSES = frozenset({"paid", "no_payment_required"})


def expandable_id(value: Any) -> str | None:
    """The id of an expandable field, whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) and value else None


def timestamp(value: Any) -> datetime | None:
    """Stripe unix seconds (or None) to an aware UTC datetime."""
    return from_timestamp(value) if isinstance(value, int | float) else None


def event_time(event: dict[str, Any]) -> datetime:
    return from_timestamp(event["created"])


def event_object(event: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = event["data"]["object"]
    return obj


def snapshot_columns(snapshot: Any, *left_out: str) -> dict[str, Any]:
    """A flat snapshot's fields as row values, but `left_out` (keys).

    Shallow on purpose: every field is a scalar, and `dataclasses.asdict` deep-copies each
    value, a cost paid on every mirrored object.
    """
    return {f.name: getattr(snapshot, f.name) for f in fields(snapshot) if f.name not in left_out}


def sub_field(obj: dict[str, Any] | None, *path: str) -> Any:
    """obj[path[0]][path[1]]..., or None where any step is missing or null."""
    value: Any = obj
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


@dataclass(frozen=True)
class CustomerSnapshot:
    stripe_customer_id: str
    email: str | None
    name: str | None
    deleted: bool


def read_customer(obj: dict[str, Any]) -> CustomerSnapshot:
    return CustomerSnapshot(
        stripe_customer_id=obj["id"],
        email=obj.get("email"),
        name=obj.get("name"),
        deleted=bool(obj.get("deleted")),
    )


@dataclass(frozen=True)
class PriceTerms:
    """What one subscription item costs: plan key, price id, amount per interval."""

    plan: str | None
    stripe_price_id: str | None
    unit_amount: int
    currency: str | None
    interval: str
    interval_count: int


def plan_key(price: dict[str, Any]) -> str | None:
    """lookup_key, else metadata.plan, else the expanded product's metadata.plan, else the id."""
    product_metadata = sub_field(price, "product", "metadata") or {}
    return (
        price.get("lookup_key")
        or (price.get("metadata") or {}).get("plan")
        or product_metadata.get("plan")
        or price.get("id")
    )


def read_price(price: dict[str, Any]) -> PriceTerms:
    """A `price` (endive) or legacy `plan` object: both carry an id, amount and interval."""
    recurring = price.get("recurring") or {}
    amount = price.get("unit_amount")
    if amount is None:
        amount = price.get("amount")
    return PriceTerms(
        plan=plan_key(price),
        stripe_price_id=price.get("id"),
        unit_amount=int(amount or 0),
        currency=price.get("currency"),
        interval=recurring.get("interval") or price.get("interval") or "month",
        interval_count=int(recurring.get("interval_count") or price.get("interval_count") or 1),
    )


@dataclass(frozen=True)
class Discount:
    percent_off: str | None  # Decimal as text, e.g. "12.5"
    amount_off: int | None


def read_discount(subscription: dict[str, Any]) -> Discount:
    """The first expanded discount's coupon; ids alone (not expanded) carry no terms."""
    candidates = [*(subscription.get("discounts") or []), subscription.get("discount")]
    for discount in candidates:
        if not isinstance(discount, dict):
            continue
        coupon = discount.get("coupon") or sub_field(discount, "source", "coupon")
        if not isinstance(coupon, dict):
            continue
        percent = coupon.get("percent_off")
        return Discount(
            percent_off=None if percent is None else format(Decimal(str(percent)).normalize(), "f"),
            amount_off=coupon.get("amount_off"),
        )
    return Discount(None, None)


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """A subscription's mirrored columns; `columns()` matches db.models.Subscription."""

    stripe_subscription_id: str
    stripe_customer_id: str
    status: str
    plan: str | None
    stripe_price_id: str | None
    quantity: int
    unit_amount: int
    currency: str
    interval: str
    interval_count: int
    discount_percent_off: str | None
    discount_amount_off: int | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    ended_at: datetime | None
    trial_end: datetime | None
    started_at: datetime | None

    def columns(self) -> dict[str, Any]:
        return snapshot_columns(self, "stripe_subscription_id", "stripe_customer_id")


def read_subscription(obj: dict[str, Any]) -> SubscriptionSnapshot:
    """The primary (first) item gives plan, price and period; Moneta sells one plan per sub."""
    items = sub_field(obj, "items", "data") or []
    item: dict[str, Any] = items[0] if items else {}
    price = read_price(item.get("price") or item.get("plan") or {})
    discount = read_discount(obj)
    return SubscriptionSnapshot(
        stripe_subscription_id=obj["id"],
        stripe_customer_id=expandable_id(obj.get("customer")) or "",
        status=obj["status"],
        plan=price.plan,
        stripe_price_id=price.stripe_price_id,
        quantity=int(item.get("quantity") or obj.get("quantity") or 1),
        unit_amount=price.unit_amount,
        currency=(obj.get("currency") or price.currency or "usd").lower(),
        interval=price.interval,
        interval_count=price.interval_count,
        discount_percent_off=discount.percent_off,
        discount_amount_off=discount.amount_off,
        current_period_start=timestamp(
            item.get("current_period_start", obj.get("current_period_start"))
        ),
        current_period_end=timestamp(item.get("current_period_end", obj.get("current_period_end"))),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        canceled_at=timestamp(obj.get("canceled_at")),
        ended_at=timestamp(obj.get("ended_at")),
        trial_end=timestamp(obj.get("trial_end")),
        started_at=timestamp(obj.get("start_date")),
    )


VERSION_COLUMNS = (
    "status",
    "plan",
    "quantity",
    "unit_amount",
    "currency",
    "interval",
    "interval_count",
    "discount_percent_off",
    "discount_amount_off",
    "trial_end",
)


def version_columns(snapshot: SubscriptionSnapshot) -> dict[str, Any]:
    """The subset of a snapshot that a SubscriptionVersion keeps."""
    columns = snapshot.columns()
    return {name: columns[name] for name in VERSION_COLUMNS}
