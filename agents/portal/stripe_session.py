"""A link to Stripe's hosted billing portal, where customers update cards and download receipts.

The idempotency key is the customer, the return URL and the minute: a double click gets the
same session, a visit a few minutes later a fresh one (a session's URL is short-lived).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.errors import Conflict, MonetaError, NotFound
from db.models import Customer
from tools.stripe.gateway import (
    StripeGateway,
    StripeGatewayError,
    StripeNotFound,
    StripeRequestError,
)


class StripeUnavailable(MonetaError):
    status_code = 503
    code = "stripe_unavailable"


class StripeRefused(MonetaError):
    status_code = 502
    code = "stripe_refused"


def portal_session_key(customer_id: int, return_url: str, at: datetime) -> str:
    url = hashlib.sha256(return_url.encode()).hexdigest()[:16]
    return f"billing_portal:{customer_id}:{url}:{int(at.timestamp()) // 60}"


def open_billing_portal(
    session: Session, gateway: StripeGateway, customer_id: int, *, return_url: str, at: datetime
) -> dict[str, Any]:
    """The Stripe billing portal session; 409 `no_stripe_customer` if Stripe has no customer."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    if not customer.stripe_customer_id:
        raise Conflict("you have no billing account with Stripe yet", code="no_stripe_customer")
    try:
        return gateway.create_billing_portal_session(
            customer=customer.stripe_customer_id,
            return_url=return_url,
            idempotency_key=portal_session_key(customer_id, return_url, at),
        )
    except StripeNotFound as exc:
        raise Conflict(
            "Stripe does not know your billing account", code="no_stripe_customer"
        ) from exc
    except StripeRequestError as exc:
        raise StripeRefused(f"Stripe refused the portal session: {exc}") from exc
    except StripeGatewayError as exc:
        raise StripeUnavailable("Stripe is unavailable; try again shortly") from exc
