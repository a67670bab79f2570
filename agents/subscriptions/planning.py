"""Turn a customer's request into a checked change and its preview, from the loaded rows.

Every refusal happens here, before anything is recorded or sent, so bad input leaves nothing
half-applied: each is a typed error with a machine code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy.orm import Session

from agents.catalog.models import Catalog, RecurringPrice
from agents.catalog.stripe_ids import price_key_for_stripe, stripe_price_id
from agents.metering.meters import load_meters
from agents.metering.periods import period_of
from agents.metering.summary import usage_summary
from agents.provisioning.plans import load_catalog as load_plans
from agents.subscriptions import repository as repo
from agents.subscriptions.previews import Action, ChangePreview, compute_preview
from agents.subscriptions.terms import (
    PlanTerms,
    SubscriptionState,
    check_changeable,
    check_quantity,
    direction,
    limits_exceeded,
    target_terms,
)
from core.errors import Conflict, InvalidInput
from core.settings import Settings
from db.models import Subscription

Kind = Literal["plan", "cancel", "resume", "pause"]


@dataclass(frozen=True)
class ChangeRequest:
    """What the customer asks: a plan (price and/or quantity), cancel, resume or pause."""

    kind: Kind
    price_key: str | None = None
    quantity: int | None = None
    at_period_end: bool = True

    def idempotency_key(self, stripe_subscription_id: str, client_key: str) -> str:
        """Derived from the request: the same request with the same client key is one change."""
        text = "|".join(
            str(part)
            for part in (
                stripe_subscription_id,
                self.kind,
                self.price_key,
                self.quantity,
                self.at_period_end,
                client_key,
            )
        )
        return "subchg_" + hashlib.sha256(text.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class PlannedChange:
    action: Action
    current: PlanTerms
    target: PlanTerms
    stripe_price_id: str | None  # the price Stripe is sent for a plan change
    preview: ChangePreview


def plan_change(
    session: Session,
    settings: Settings,
    catalog: Catalog,
    subscription: Subscription,
    change: ChangeRequest,
    at: datetime,
) -> PlannedChange:
    """Check `change` against the subscription, catalog and usage; its action and preview."""
    current = current_terms(session, catalog, subscription)
    state = subscription_state(session, subscription)
    if change.kind == "plan":
        return _plan(session, settings, catalog, subscription, state, current, change, at)
    action = _lifecycle_action(state, change)
    refundable = 0
    if action == "cancel_now":
        payment = repo.period_payment(session, subscription)
        refundable = payment.amount - payment.amount_refunded if payment else 0
    preview = compute_preview(action, current, state, at, refundable=refundable)
    return PlannedChange(action, current, current, None, preview)


def _plan(
    session: Session,
    settings: Settings,
    catalog: Catalog,
    subscription: Subscription,
    state: SubscriptionState,
    current: PlanTerms,
    change: ChangeRequest,
    at: datetime,
) -> PlannedChange:
    check_changeable(state)
    quantity = check_quantity(current.quantity if change.quantity is None else change.quantity)
    key = change.price_key or current.price_key
    if key is None:
        raise InvalidInput("name the price to move to", code="unknown_price")
    if key == current.price_key:  # same plan, new quantity: a retired price stays allowed
        if quantity == current.quantity:
            raise Conflict("the subscription already has this plan and quantity", code="no_change")
        target = current.with_quantity(quantity)
        price_id = subscription.stripe_price_id
    else:
        target = target_terms(catalog, key, quantity, current.currency)
        _check_usage(session, settings, subscription.customer_id, catalog, key, at)
        price_id = stripe_price_id(session, key)
    action = direction(current, target)
    preview = compute_preview(action, current, state, at, target=target)
    return PlannedChange(action, current, target, price_id, preview)


def _lifecycle_action(state: SubscriptionState, change: ChangeRequest) -> Action:
    check_changeable(state)
    if change.kind == "resume":
        if state.cancel_at_period_end:
            return "resume"
        if state.collection_paused:
            return "unpause"
        raise Conflict("the subscription is neither canceling nor paused", code="no_change")
    if change.kind == "pause":
        if state.collection_paused:
            raise Conflict("collection is already paused", code="no_change")
        return "pause"
    if not change.at_period_end:
        return "cancel_now"
    if state.cancel_at_period_end:
        raise Conflict("the subscription already cancels at the period end", code="no_change")
    return "cancel_at_period_end"


def _check_usage(
    session: Session,
    settings: Settings,
    customer_id: int,
    catalog: Catalog,
    price_key: str,
    at: datetime,
) -> None:
    """Refuse a plan whose limits are below what the customer already uses this period."""
    limits = catalog.product_of(price_key).limits
    rows = usage_summary(
        session,
        load_meters(settings.meters_file),
        load_plans(settings.catalog_file),
        customer_id=customer_id,
        period=period_of(at),
        now=at,
    )
    used = {row["metric"]: Decimal(row["used"]) for row in rows}
    over = limits_exceeded(limits, used)
    if over:
        raise InvalidInput(
            f"current usage exceeds {price_key}'s limits on: {', '.join(over)}",
            code="below_current_usage",
        )


def current_terms(session: Session, catalog: Catalog, subscription: Subscription) -> PlanTerms:
    """The subscription's plan as Stripe bills it (the mirror): a price whose catalog amount
    changed since keeps its old amount, and the proration credit must match Stripe's. The
    catalog's terms stand in only where the mirror knows no amount yet."""
    key = current_price_key(session, catalog, subscription)
    price = catalog.price(key) if key else None
    if subscription.unit_amount <= 0 and isinstance(price, RecurringPrice):
        return PlanTerms(
            key, price.unit_amount, price.currency, price.interval, 1, subscription.quantity
        )
    return PlanTerms(
        key,
        subscription.unit_amount,
        subscription.currency,
        subscription.interval,
        subscription.interval_count,
        subscription.quantity,
    )


def current_price_key(session: Session, catalog: Catalog, subscription: Subscription) -> str | None:
    """The catalog key of the subscription's price: by its synced Stripe id, else its plan key."""
    if subscription.stripe_price_id:
        key = price_key_for_stripe(session, subscription.stripe_price_id)
        if key is not None:
            return key
    known = {p.key for product in catalog.products for p in product.prices}
    return subscription.plan if subscription.plan in known else None


def subscription_state(session: Session, subscription: Subscription) -> SubscriptionState:
    start, end = subscription.current_period_start, subscription.current_period_end
    if start is None or end is None:
        raise Conflict("the subscription has no current period yet", code="subscription_not_active")
    return SubscriptionState(
        status=subscription.status,
        period_start=start,
        period_end=end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        collection_paused=repo.collection_paused(session, subscription.id),
    )
