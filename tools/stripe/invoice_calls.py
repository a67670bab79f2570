"""Stripe calls of invoices and dunning: list an invoice's lines, and stop an invoice's automatic
collection after a hard decline (canceling uses `subscription_calls.cancel_subscription`).

Only the protocol lives here, importing nothing of `tools.stripe`, so `gateway.py` can take it
as a base without an import cycle; `invoice_client.py` and `invoice_sandbox.py` implement it.
"""

from __future__ import annotations

from typing import Any, Protocol


class InvoiceCalls(Protocol):
    def list_invoice_lines(self, *, invoice: str) -> list[dict[str, Any]]:
        """Every line of one invoice (a webhook's `lines` holds only the first page)."""
        ...

    def stop_invoice_collection(self, *, invoice: str, idempotency_key: str) -> dict[str, Any]:
        """Turn off automatic collection (`auto_advance=false`): Stripe retries no more."""
        ...
