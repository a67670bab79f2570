"""The invoice and dunning calls (`invoice_calls.InvoiceCalls`) over stripe-python."""

from __future__ import annotations

from typing import Any

from tools.stripe.client_base import PAGE_SIZE, ClientBase, translated_errors


class ClientInvoiceCalls(ClientBase):
    def list_invoice_lines(self, *, invoice: str) -> list[dict[str, Any]]:
        with translated_errors():
            page = self._client.v1.invoices.line_items.list(invoice, {"limit": PAGE_SIZE})
            return [line.to_dict() for line in page.auto_paging_iter()]

    def stop_invoice_collection(self, *, invoice: str, idempotency_key: str) -> dict[str, Any]:
        with translated_errors():
            updated = self._client.v1.invoices.update(
                invoice, {"auto_advance": False}, {"idempotency_key": idempotency_key}
            )
        return updated.to_dict()
