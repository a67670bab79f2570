"""Subscription changes over stripe-python (real Stripe or localstripe).

Items name the new price as `plan`: Stripe takes a price id there, and localstripe (Plans only)
understands nothing else. `proration_behavior` is sent only when it is not Stripe's default
(`create_prorations`), which localstripe does not know.
"""

from __future__ import annotations

from typing import Any

from tools.stripe.client_base import ClientBase, translated_errors

DEFAULT_PRORATION = "create_prorations"


class ClientSubscriptionCalls(ClientBase):
    def change_subscription_plan(
        self,
        subscription_id: str,
        *,
        price: str,
        quantity: int,
        proration_behavior: str,
        proration_date: int,
        idempotency_key: str,
    ) -> dict[str, Any]:
        with translated_errors():
            current = self._client.v1.subscriptions.retrieve(subscription_id).to_dict()
        item = current["items"]["data"][0]["id"]
        params: dict[str, Any] = {
            "items": [{"id": item, "plan": price, "quantity": quantity}],
            "proration_date": proration_date,
        }
        if proration_behavior != DEFAULT_PRORATION:
            params["proration_behavior"] = proration_behavior
        return self._update(subscription_id, params, idempotency_key)

    def set_cancel_at_period_end(
        self, subscription_id: str, *, cancel: bool, idempotency_key: str
    ) -> dict[str, Any]:
        return self._update(subscription_id, {"cancel_at_period_end": cancel}, idempotency_key)

    def cancel_subscription(self, subscription_id: str, *, idempotency_key: str) -> dict[str, Any]:
        with translated_errors():
            canceled = self._client.v1.subscriptions.cancel(
                subscription_id, options={"idempotency_key": idempotency_key}
            )
        return canceled.to_dict()

    def set_pause_collection(
        self, subscription_id: str, *, behavior: str | None, idempotency_key: str
    ) -> dict[str, Any]:
        pause: Any = {"behavior": behavior} if behavior else ""  # "" unsets it
        return self._update(subscription_id, {"pause_collection": pause}, idempotency_key)

    def _update(
        self, subscription_id: str, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        with translated_errors():
            updated = self._client.v1.subscriptions.update(
                subscription_id,
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        return updated.to_dict()
