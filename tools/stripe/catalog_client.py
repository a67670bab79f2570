"""The catalog calls over stripe-python: Prices, or Plans where the server has no Prices.

localstripe (and very old accounts) answer /v1/prices with a bare 404: the client then falls
back to Plans for the rest of its life, converting the parameters; a one-time price cannot be
a Plan and is refused with `PlansCannotPrice`.
"""

from __future__ import annotations

from typing import Any

import stripe

from tools.stripe.client_base import ClientBase, translated_errors
from tools.stripe.gateway import StripeRequestError


class PlansCannotPrice(StripeRequestError):
    """The server only has Plans, and this price (one-time) cannot be one."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="plans_cannot_price")


def plan_params(price: dict[str, Any]) -> dict[str, Any]:
    """Prices API parameters as the equivalent Plan's; raises PlansCannotPrice if one-time."""
    recurring = price.get("recurring")
    if not recurring:
        raise PlansCannotPrice("a one-time price needs the Prices API; this server has Plans only")
    plan: dict[str, Any] = {
        "currency": price["currency"],
        "product": price["product"],
        "interval": recurring["interval"],
        "interval_count": recurring.get("interval_count", 1),
        "metadata": price.get("metadata", {}),
    }
    if "usage_type" in recurring:
        plan["usage_type"] = recurring["usage_type"]
    if price.get("nickname"):
        plan["nickname"] = price["nickname"]
    if price.get("billing_scheme") == "tiered":
        plan.update(billing_scheme="tiered", tiers_mode=price["tiers_mode"], tiers=price["tiers"])
    elif "unit_amount_decimal" in price:
        plan["amount_decimal"] = price["unit_amount_decimal"]
    else:
        plan["amount"] = price["unit_amount"]
    if "transform_quantity" in price:
        plan["transform_usage"] = price["transform_quantity"]
    return plan


def _prices_route_missing(error: stripe.StripeError) -> bool:
    """A bare 404 without Stripe's error code: the server has no /v1/prices at all."""
    return error.http_status == 404 and not error.code


class ClientCatalogCalls(ClientBase):
    _plans_only = False  # learnt from the first 404 on /v1/prices

    def create_product(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        options = {"idempotency_key": idempotency_key}
        with translated_errors():
            return self._client.v1.products.create(params, options).to_dict()  # type: ignore[arg-type]

    def update_product(
        self, product_id: str, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        options = {"idempotency_key": idempotency_key}
        with translated_errors():
            updated = self._client.v1.products.update(product_id, params, options)  # type: ignore[arg-type]
        return updated.to_dict()

    def create_price(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        options = {"idempotency_key": idempotency_key}
        with translated_errors():
            if not self._plans_only:
                try:
                    return self._client.v1.prices.create(params, options).to_dict()  # type: ignore[arg-type]
                except stripe.StripeError as error:
                    if not _prices_route_missing(error):
                        raise
                    self._plans_only = True
            plan = self._client.v1.plans.create(plan_params(params), options)  # type: ignore[arg-type]
        return plan.to_dict()

    def update_price(
        self, price_id: str, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        options = {"idempotency_key": idempotency_key}
        with translated_errors():
            if not self._plans_only:
                try:
                    return self._client.v1.prices.update(price_id, params, options).to_dict()  # type: ignore[arg-type]
                except stripe.StripeError as error:
                    if not _prices_route_missing(error):
                        raise
                    self._plans_only = True
            plan = self._client.v1.plans.update(price_id, params, options)  # type: ignore[arg-type]
        return plan.to_dict()

    def create_customer(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        options = {"idempotency_key": idempotency_key}
        with translated_errors():
            return self._client.v1.customers.create(params, options).to_dict()  # type: ignore[arg-type]
