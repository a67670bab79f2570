"""Link a completed checkout to the Moneta customer it was opened for (`client_reference_id`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from db.models import Customer
from db.repositories.billing import customer_id_for


def link_reference_customer(
    session: Session, checkout: dict[str, Any], stripe_customer_id: str
) -> None:
    """Give the customer named by `client_reference_id` (a Moneta id) the session's Stripe id.

    Only a customer without a Stripe id takes it, and only while no other row mirrors it:
    a Stripe customer made by Checkout itself then lands on the right Moneta customer.
    """
    reference = checkout.get("client_reference_id")
    if not isinstance(reference, str) or not reference.isdigit():
        return
    if customer_id_for(session, stripe_customer_id) is not None:
        return
    session.execute(
        update(Customer)
        .where(Customer.id == int(reference), Customer.stripe_customer_id.is_(None))
        .values(stripe_customer_id=stripe_customer_id)
    )
