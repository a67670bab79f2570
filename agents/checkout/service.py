"""Start a checkout: validate the purchase, claim the trial, open the Stripe Checkout Session.

Everything is checked before the first Stripe write; the caller's transaction commits the
trial record and the customer's Stripe id together, so a refused or failed checkout leaves
nothing behind. The same request (same request key) returns the same session.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.catalog.loader import load_catalog
from agents.catalog.stripe_ids import stripe_price_id
from agents.checkout.promotions import checkout_discounts
from agents.checkout.rules import (
    CheckoutRequest,
    check_currency,
    checkout_tax,
    idempotency_key,
    offer_for,
    session_params,
)
from agents.checkout.trials import claim_trial
from agents.customers.stripe_customer import ensure_stripe_customer
from agents.taxes.service import tax_for_customer
from core.clock import utcnow
from core.errors import NotFound
from core.settings import Settings
from db.models import Customer, Subscription
from tools.stripe.gateway import StripeGateway

ENDED_STATUSES = ("canceled", "incomplete_expired")


@dataclass(frozen=True)
class CheckoutStarted:
    session_id: str
    url: str | None
    mode: str
    price_key: str
    plan: str
    quantity: int
    trial_days: int | None


def start_checkout(
    session: Session, gateway: StripeGateway, settings: Settings, request: CheckoutRequest
) -> CheckoutStarted:
    offer = offer_for(load_catalog(settings.catalog_file), request)
    if session.get(Customer, request.customer_id) is None:
        raise NotFound(f"no customer {request.customer_id}", code="unknown_customer")
    check_currency(offer, billed_currencies(session, request.customer_id))
    price_id = stripe_price_id(session, offer.price.key)
    now = utcnow()
    discounts = checkout_discounts(
        session,
        settings,
        request.promotion_code,
        customer_id=request.customer_id,
        price_key=offer.price.key,
        at=now,
    )
    tax = tax_for_customer(session, settings, request.customer_id, offer.product.tax_code)
    checkout_tax(tax)  # refuses an unsynced rate before anything (a trial claim) is written
    # Without a client key, a repeat within the same minute (a double click) is the same one.
    key = idempotency_key(request, offer, request.request_key or now.strftime("%Y%m%dT%H%M"))
    expires_at = None
    if offer.trial_days:
        expires_at = claim_trial(session, request.customer_id, offer, key, now)
    params = session_params(
        request,
        offer,
        stripe_customer_id=ensure_stripe_customer(session, gateway, request.customer_id),
        stripe_price_id=price_id,
        discounts=discounts,
        success_url=request.success_url or settings.checkout_success_url,
        cancel_url=request.cancel_url or settings.checkout_cancel_url,
        expires_at=expires_at,
        tax=tax,
    )
    created = gateway.create_checkout_session(params=params, idempotency_key=key)
    return CheckoutStarted(
        session_id=created["id"],
        url=created.get("url"),
        mode=params["mode"],
        price_key=offer.price.key,
        plan=offer.product.key,
        quantity=request.quantity,
        trial_days=offer.trial_days,
    )


def billed_currencies(session: Session, customer_id: int) -> set[str]:
    """Currencies of the customer's subscriptions that have not ended."""
    return set(
        session.scalars(
            select(Subscription.currency).where(
                Subscription.customer_id == customer_id,
                Subscription.status.not_in(ENDED_STATUSES),
            )
        )
    )
