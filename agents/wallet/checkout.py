"""Token purchases: a one-time Stripe Checkout Session, credited only once its payment is in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agents.wallet.rules import purchase_amount
from core.errors import InvalidInput, NotFound
from core.settings import Settings
from db.models import Customer
from tools.stripe.gateway import StripeGateway

TOKEN_PURCHASE = "token_purchase"  # metadata `kind` the billing agent recognises


@dataclass(frozen=True)
class TokenCheckout:
    session_id: str
    url: str | None
    tokens: int
    amount: int
    currency: str


def checkout_params(customer: Customer, tokens: int, settings: Settings) -> dict[str, Any]:
    """A payment-mode session selling `tokens`; the metadata tells the webhook what to credit."""
    amount = purchase_amount(tokens, settings.wallet_price_per_1k_tokens)
    metadata = {"kind": TOKEN_PURCHASE, "tokens": str(tokens), "customer_id": str(customer.id)}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": settings.wallet_currency,
                    "unit_amount": amount,
                    "product_data": {"name": f"{tokens:,} AI tokens"},
                },
            }
        ],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": settings.wallet_checkout_success_url,
        "cancel_url": settings.wallet_checkout_cancel_url,
    }
    if customer.stripe_customer_id:
        params["customer"] = customer.stripe_customer_id
    elif customer.email:
        params["customer_email"] = customer.email
    return params


def start_token_checkout(
    session: Session, stripe: StripeGateway, settings: Settings, customer_id: int, tokens: int
) -> TokenCheckout:
    """Open the checkout; nothing is credited here (see `agents.wallet.graph`)."""
    if not isinstance(tokens, int) or isinstance(tokens, bool):
        raise InvalidInput(f"tokens must be an integer, got {tokens!r}", code="bad_tokens")
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    params = checkout_params(customer, tokens, settings)
    created = stripe.create_checkout_session(
        params=params, idempotency_key=f"token-checkout:{customer_id}:{uuid.uuid4().hex}"
    )
    return TokenCheckout(
        session_id=created["id"],
        url=created.get("url"),
        tokens=tokens,
        amount=int(
            created.get("amount_total") or params["line_items"][0]["price_data"]["unit_amount"]
        ),
        currency=settings.wallet_currency,
    )
