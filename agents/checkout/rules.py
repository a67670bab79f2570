"""What may be bought at checkout, and the Checkout Session that sells it. Pure: no I/O.

Refusals are typed errors with a machine-readable code, raised before anything is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agents.catalog.models import Catalog, Price, Product, RecurringPrice
from agents.taxes.decision import TaxDecision
from core.errors import Conflict, InvalidInput, NotFound

MAX_QUANTITY = 10_000  # more at once is a typo or abuse, not a purchase
MAX_TRIAL_DAYS = 730  # Stripe's own limit on subscription_data.trial_period_days


@dataclass(frozen=True)
class CheckoutRequest:
    customer_id: int
    price_key: str
    quantity: int = 1
    promotion_code: str | None = None
    trial_days: int | None = None  # None: the catalog price's own trial, if any
    success_url: str | None = None
    cancel_url: str | None = None
    request_key: str | None = None  # the client's retry key; same key, same session


@dataclass(frozen=True)
class Offer:
    """The catalog product and price a request names, checked to be on offer."""

    product: Product
    price: Price
    trial_days: int | None


def offer_for(catalog: Catalog, request: CheckoutRequest) -> Offer:
    """The price on offer, or unknown_price / contact_sales / price_not_offered / bad_quantity."""
    check_quantity(request.quantity)
    product, price = _find(catalog, request.price_key)
    if price not in product.offerable_prices():
        raise InvalidInput(
            f"price {price.key!r} is {_status(product, price)} and not offered to new customers",
            code="price_not_offered",
        )
    return Offer(product, price, _trial_days(price, request.trial_days))


def check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput(
            f"quantity must be a whole number, got {quantity!r}", code="bad_quantity"
        )
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(
            f"quantity must be between 1 and {MAX_QUANTITY}, got {quantity}", code="bad_quantity"
        )


def check_currency(offer: Offer, customer_currencies: set[str]) -> None:
    """A Stripe customer bills in one currency: refuse a price in another."""
    others = customer_currencies - {offer.price.currency}
    if others:
        raise InvalidInput(
            f"price {offer.price.key!r} is in {offer.price.currency.upper()} but the customer "
            f"is billed in {', '.join(sorted(c.upper() for c in others))}",
            code="currency_mismatch",
        )


def session_mode(price: Price) -> str:
    """Anything billed per interval is a subscription; the rest is a one-time payment."""
    return "subscription" if getattr(price, "interval", None) else "payment"


def idempotency_key(request: CheckoutRequest, offer: Offer, request_key: str) -> str:
    """Derived from what is bought, by whom, with which code and trial, and the request key."""
    parts = (
        request.customer_id,
        offer.price.key,
        request.quantity,
        request.promotion_code or "",
        offer.trial_days or 0,
        request.success_url or "",
        request.cancel_url or "",
        request_key,
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"checkout:{request.customer_id}:{offer.price.key}:{digest}"


def session_params(
    request: CheckoutRequest,
    offer: Offer,
    *,
    stripe_customer_id: str,
    stripe_price_id: str,
    discounts: list[dict[str, str]],
    success_url: str,
    cancel_url: str,
    expires_at: datetime | None = None,
    tax: TaxDecision | None = None,
) -> dict[str, Any]:
    """The Checkout Session: `client_reference_id` is the Moneta customer id, metadata the plan,
    and the tax Stripe must charge (`checkout_tax`)."""
    mode = session_mode(offer.price)
    metadata = {
        "plan": offer.product.key,
        "price_key": offer.price.key,
        "moneta_customer_id": str(request.customer_id),
    }
    params: dict[str, Any] = {
        "mode": mode,
        "customer": stripe_customer_id,
        "client_reference_id": str(request.customer_id),
        "line_items": [{"price": stripe_price_id, "quantity": request.quantity}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
    }
    if mode == "subscription":
        subscription: dict[str, Any] = {"metadata": metadata}
        if offer.trial_days:
            subscription["trial_period_days"] = offer.trial_days
        params["subscription_data"] = subscription
    else:
        params["payment_intent_data"] = {"metadata": metadata}
    if discounts:
        params["discounts"] = discounts
    if tax is not None:
        params.update(checkout_tax(tax))
        if tax.stripe_tax_rate_id and not tax.automatic:
            params["line_items"][0]["tax_rates"] = [tax.stripe_tax_rate_id]
    if expires_at is not None:
        params["expires_at"] = int(expires_at.timestamp())
    return params


def checkout_tax(tax: TaxDecision) -> dict[str, Any]:
    """Session-level tax parameters: Stripe automatic tax (it collects the address and saves it
    on the customer), or nothing when our own rate goes on the line item. A taxed customer whose
    rate was never synced to Stripe is refused: the invoice would bill less than our estimate."""
    if tax.automatic:
        return {"automatic_tax": {"enabled": True}, "customer_update": {"address": "auto"}}
    if tax.rate is not None and tax.rate.percent > 0 and not tax.stripe_tax_rate_id:
        raise Conflict(
            f"the {tax.region} tax rate is not on Stripe yet: run `moneta taxes sync`",
            code="tax_rate_not_synced",
        )
    return {}


def _find(catalog: Catalog, key: str) -> tuple[Product, Price]:
    for product in catalog.products:
        if product.key == key and product.contact_sales:
            raise InvalidInput(
                f"{product.name} is sold by our sales team, not at checkout", code="contact_sales"
            )
        for price in product.prices:
            if price.key == key:
                return product, price
    raise NotFound(f"unknown price {key!r}", code="unknown_price")


def _status(product: Product, price: Price) -> str:
    return price.lifecycle if product.lifecycle == "active" else f"of a {product.lifecycle} product"


def _trial_days(price: Price, requested: int | None) -> int | None:
    if requested is None:
        return price.trial_days if isinstance(price, RecurringPrice) else None
    if isinstance(requested, bool) or not isinstance(requested, int):
        raise InvalidInput(
            f"trial days must be a whole number, got {requested!r}", code="bad_trial"
        )
    if requested == 0:
        return None
    if not isinstance(price, RecurringPrice):
        raise InvalidInput(
            f"price {price.key!r} has no trial: not a subscription", code="bad_trial"
        )
    if not 1 <= requested <= MAX_TRIAL_DAYS:
        raise InvalidInput(
            f"trial days must be between 1 and {MAX_TRIAL_DAYS}, got {requested}", code="bad_trial"
        )
    return requested
