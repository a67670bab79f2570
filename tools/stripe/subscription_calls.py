"""Stripe calls that change a subscription: plan and quantity (prorated), cancel, resume, pause.

Only the protocol lives here, importing nothing of `tools.stripe`, so `gateway.py` can take it
as a base without an import cycle; `subscription_client.py` and `subscription_sandbox.py`
implement it. Read a subscription with the gateway's `retrieve`.
"""

from __future__ import annotations

from typing import Any, Protocol


class SubscriptionCalls(Protocol):
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
        """Put the subscription's one item on `price` x `quantity`, prorated as of the date."""
        ...

    def set_cancel_at_period_end(
        self, subscription_id: str, *, cancel: bool, idempotency_key: str
    ) -> dict[str, Any]:
        """Cancel at the period end (True) or undo that (False, a resume)."""
        ...

    def cancel_subscription(self, subscription_id: str, *, idempotency_key: str) -> dict[str, Any]:
        """End the subscription now, without Stripe's own proration credit (refunds are gated)."""
        ...

    def set_pause_collection(
        self, subscription_id: str, *, behavior: str | None, idempotency_key: str
    ) -> dict[str, Any]:
        """Pause collection (`void` its invoices while paused), or resume it with None."""
        ...
