"""Operator-action calls over stripe-python (real Stripe; localstripe lacks most of them)."""

from __future__ import annotations

from typing import Any

from tools.stripe.client_base import ClientBase, translated_errors


class ClientActionCalls(ClientBase):
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
        params: Any = {
            "amount": amount,
            "currency": currency,
            "description": description,
            "metadata": metadata or {},
        }
        with translated_errors():
            made = self._client.v1.customers.balance_transactions.create(
                customer, params, {"idempotency_key": idempotency_key}
            )
        return made.to_dict()

    def set_trial_end(
        self, subscription_id: str, *, trial_end: int, idempotency_key: str
    ) -> dict[str, Any]:
        params: Any = {"trial_end": trial_end, "proration_behavior": "none"}
        with translated_errors():
            updated = self._client.v1.subscriptions.update(
                subscription_id, params, {"idempotency_key": idempotency_key}
            )
        return updated.to_dict()

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
        # Its own draft invoice, so no other pending item of the customer is swept into it.
        invoice_params: Any = {
            "customer": customer,
            "currency": currency,
            "description": description,
            "collection_method": "charge_automatically",
            "auto_advance": False,
            "pending_invoice_items_behavior": "exclude",
            "metadata": metadata or {},
        }
        invoices = self._client.v1.invoices
        with translated_errors():
            draft = invoices.create(
                invoice_params, {"idempotency_key": f"{idempotency_key}:invoice"}
            )
            item: Any = {
                "customer": customer,
                "invoice": draft.id,
                "amount": amount,
                "currency": currency,
                "description": description,
                "metadata": metadata or {},
            }
            self._client.v1.invoice_items.create(
                item, {"idempotency_key": f"{idempotency_key}:item"}
            )
            invoices.finalize_invoice(
                draft.id,
                {"auto_advance": False},
                {"idempotency_key": f"{idempotency_key}:finalize"},
            )
            paid = invoices.pay(draft.id, {}, {"idempotency_key": f"{idempotency_key}:pay"})
        return paid.to_dict()

    def mark_invoice_uncollectible(self, invoice: str, *, idempotency_key: str) -> dict[str, Any]:
        with translated_errors():
            marked = self._client.v1.invoices.mark_uncollectible(
                invoice, {}, {"idempotency_key": idempotency_key}
            )
        return marked.to_dict()
