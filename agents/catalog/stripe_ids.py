"""The Stripe ids of catalog prices, as `moneta catalog sync` recorded them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.errors import NotFound
from db.repositories.catalog import active_stripe_price_id, price_key_of


def stripe_price_id(session: Session, price_key: str) -> str:
    """The Stripe price new customers buy `price_key` at; NotFound until the catalog is synced."""
    found = active_stripe_price_id(session, price_key)
    if found is None:
        raise NotFound(
            f"price {price_key!r} is not on Stripe: run `moneta catalog sync`",
            code="price_not_synced",
        )
    return found


def price_key_for_stripe(session: Session, stripe_price_id: str) -> str | None:
    """The catalog key a Stripe price (or Plan) was synced from, archived ones included."""
    return price_key_of(session, stripe_price_id)
