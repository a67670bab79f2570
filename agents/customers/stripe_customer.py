"""Give a Moneta customer a Stripe customer, once, before anything is bought for them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from db.models import Customer
from tools.stripe.gateway import StripeGateway


def ensure_stripe_customer(session: Session, gateway: StripeGateway, customer_id: int) -> str:
    """The customer's Stripe id, creating the Stripe customer on first use.

    The row is locked while deciding, and the idempotency key `customer:{id}` makes a retry
    after a crash (Stripe call done, row not committed) return the same Stripe customer.
    """
    customer = session.scalars(
        select(Customer).where(Customer.id == customer_id).with_for_update()
    ).one_or_none()
    if customer is None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    if customer.stripe_customer_id:
        return customer.stripe_customer_id
    params: dict[str, object] = {"metadata": {"moneta_customer_id": str(customer_id)}}
    if customer.email:
        params["email"] = customer.email
    if customer.name:
        params["name"] = customer.name
    created = gateway.create_customer(params=params, idempotency_key=f"customer:{customer_id}")
    customer.stripe_customer_id = created["id"]
    session.flush()
    return customer.stripe_customer_id
