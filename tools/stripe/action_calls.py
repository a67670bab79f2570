"""Stripe calls of operator actions carried out after an approval: account credit, trial
extension, a one-off charge, and writing an invoice off (canceling uses
`subscription_calls.cancel_subscription`).

Only the protocol lives here, importing nothing of `tools.stripe`, so `gateway.py` can take it
as a base without an import cycle; `action_client.py` and `action_sandbox.py` implement it.
"""

from __future__ import annotations

from typing import Any, Protocol


class ActionCalls(Protocol):
    def create_balance_transaction(
        self,
        *,
        customer: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A customer balance transaction; a negative `amount` is credit toward the next
        invoice. Stripe refuses a currency other than the customer's."""
        ...

    def set_trial_end(
        self, subscription_id: str, *, trial_end: int, idempotency_key: str
    ) -> dict[str, Any]:
        """Move the trial's end to the unix time `trial_end`, with no proration."""
        ...

    def charge_one_off(
        self,
        *,
        customer: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """An invoice of one item, finalized and paid at once with the customer's default
        payment method; returns the invoice. Each step's key derives from `idempotency_key`."""
        ...

    def mark_invoice_uncollectible(self, invoice: str, *, idempotency_key: str) -> dict[str, Any]:
        """Write an open invoice off: Stripe stops collecting it (status `uncollectible`)."""
        ...
