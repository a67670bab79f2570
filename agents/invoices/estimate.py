"""`estimate_next_invoice`: the next invoice of a customer, line by line, as Stripe will bill it.

base + usage + overage - discounts + tax = total. The discount is the subscription's (the
coupon Stripe applies, mirrored on the subscription); tax is `agents.taxes.tax_for_customer`
for the product's tax code, unless Stripe computes it (automatic tax: left out, said so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.catalog.loader import load_catalog
from agents.catalog.models import Product
from agents.catalog.stripe_ids import price_key_for_stripe
from agents.invoices.charges import (
    Charge,
    base_charge,
    next_period,
    overage_charges,
    usage_charges,
)
from agents.invoices.totals import invoice_money
from agents.pricing.discounts import AmountOff, Discount, PercentOff
from agents.pricing.money import Money
from agents.taxes.service import tax_for_customer
from core.errors import NotFound
from core.settings import Settings
from db.models import Customer, Subscription

LineKind = Literal["base", "usage", "overage", "discount", "tax"]
BILLED_STATUSES = ("active", "trialing", "past_due")


@dataclass(frozen=True)
class EstimateLine:
    kind: LineKind
    description: str
    amount: int  # minor units; negative for the discount line
    quantity: Decimal | None = None
    discount: int = 0  # this line's share of the discount (charge lines)
    tax: int = 0  # this line's tax (charge lines)
    period_start: datetime | None = None
    period_end: datetime | None = None


@dataclass(frozen=True)
class Estimate:
    customer_id: int
    stripe_subscription_id: str
    currency: str
    period_start: datetime | None
    period_end: datetime | None
    lines: tuple[EstimateLine, ...]
    subtotal: int
    discount: int
    tax: int
    total: int
    tax_note: str  # why this tax (or none): the tax decision's reason


def estimate_next_invoice(
    session: Session, settings: Settings, customer_id: int, *, at: datetime
) -> Estimate:
    """The customer's next invoice as of `at`; NotFound when none is coming."""
    sub = billed_subscription(session, customer_id)
    product = subscribed_product(session, settings, sub)
    charges = [
        base_charge(sub),
        *usage_charges(session, settings, sub, product, at),
        *overage_charges(session, settings, sub, at),
    ]
    decision = tax_for_customer(
        session, settings, customer_id, product.tax_code if product else None
    )
    rate = None if decision.automatic else decision.rate
    money = invoice_money([c.amount for c in charges], sub.currency, discount_of(sub), rate)
    lines = [
        _charge_line(charge, charged.discount, charged.tax)
        for charge, charged in zip(charges, money.lines, strict=True)
    ]
    if money.discount:
        lines.append(EstimateLine("discount", _discount_label(sub), -money.discount))
    if rate is not None and (money.tax or rate.percent):
        label = f"Tax {rate.percent.normalize():f}%" + (" (included)" if rate.inclusive else "")
        lines.append(EstimateLine("tax", label, money.tax))
    start, end = next_period(sub)
    return Estimate(
        customer_id=customer_id,
        stripe_subscription_id=sub.stripe_subscription_id,
        currency=sub.currency,
        period_start=start,
        period_end=end,
        lines=tuple(lines),
        subtotal=money.subtotal,
        discount=money.discount,
        tax=money.tax,
        total=money.total,
        tax_note=decision.reason,
    )


def billed_subscription(session: Session, customer_id: int) -> Subscription:
    """The customer's subscription that renews (the newest if several); NotFound otherwise."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    sub = session.scalars(
        select(Subscription)
        .where(
            Subscription.customer_id == customer_id,
            Subscription.status.in_(BILLED_STATUSES),
            Subscription.cancel_at_period_end.is_(False),
        )
        .order_by(Subscription.current_period_end.desc(), Subscription.id.desc())
        .limit(1)
    ).one_or_none()
    if sub is None:
        raise NotFound(
            "no subscription renews, so no invoice is coming", code="no_upcoming_invoice"
        )
    return sub


def subscribed_product(session: Session, settings: Settings, sub: Subscription) -> Product | None:
    """The catalog product of the subscription's price (synced id, else its plan key)."""
    catalog = load_catalog(settings.catalog_file)
    key = price_key_for_stripe(session, sub.stripe_price_id) if sub.stripe_price_id else None
    for candidate in (key, sub.plan):
        if candidate is None:
            continue
        for product in catalog.products:
            if product.key == candidate or any(p.key == candidate for p in product.prices):
                return product
    return None


def discount_of(sub: Subscription) -> Discount | None:
    """The subscription's coupon as the engine's discount (percent wins, as Stripe has one)."""
    if sub.discount_percent_off:
        return PercentOff(Decimal(sub.discount_percent_off))
    if sub.discount_amount_off:
        return AmountOff(Money(sub.discount_amount_off, sub.currency))
    return None


def _discount_label(sub: Subscription) -> str:
    if sub.discount_percent_off:
        return f"Discount {Decimal(sub.discount_percent_off).normalize():f}% off"
    return "Discount"


def _charge_line(charge: Charge, discount: int, tax: int) -> EstimateLine:
    return EstimateLine(
        kind=charge.kind,
        description=charge.description,
        amount=charge.amount,
        quantity=charge.quantity,
        discount=discount,
        tax=tax,
        period_start=charge.period_start,
        period_end=charge.period_end,
    )
