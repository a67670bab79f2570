"""The Stripe gateway over stripe-python's `StripeClient` (real Stripe, localstripe or a proxy)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tools.stripe.action_client import ClientActionCalls
from tools.stripe.catalog_client import ClientCatalogCalls
from tools.stripe.client_base import PAGE_SIZE, ClientBase, translated_errors
from tools.stripe.discount_client import ClientDiscountCalls
from tools.stripe.gateway import IDEMPOTENCY_METADATA_KEY, RETRIEVABLE
from tools.stripe.invoice_client import ClientInvoiceCalls
from tools.stripe.portal_client import ClientPortalCalls
from tools.stripe.subscription_client import ClientSubscriptionCalls


class StripeClientGateway(
    ClientActionCalls,
    ClientCatalogCalls,
    ClientDiscountCalls,
    ClientInvoiceCalls,
    ClientPortalCalls,
    ClientSubscriptionCalls,
    ClientBase,
):
    """Calls Stripe with retries on network errors and 5xx, and explicit idempotency keys.

    Each area of calls is a mixin over `ClientBase` in its own module; this class joins them.
    """

    def retrieve(self, resource: str, object_id: str) -> dict[str, Any]:
        if resource not in RETRIEVABLE:
            raise ValueError(f"cannot retrieve {resource!r}; one of {RETRIEVABLE}")
        service = getattr(self._client.v1, f"{resource}s")
        with translated_errors():
            return service.retrieve(object_id).to_dict()  # type: ignore[no-any-return]

    def create_refund(
        self,
        *,
        amount: int,
        idempotency_key: str,
        charge: str | None = None,
        payment_intent: str | None = None,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "amount": amount,
            "metadata": {**(metadata or {}), IDEMPOTENCY_METADATA_KEY: idempotency_key},
        }
        optional = {"charge": charge, "payment_intent": payment_intent, "reason": reason}
        params.update({name: value for name, value in optional.items() if value is not None})
        with translated_errors():
            refund = self._client.v1.refunds.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        return refund.to_dict()

    def create_transfer(
        self,
        *,
        destination: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "destination": destination,
            "amount": amount,
            "currency": currency,
            "metadata": {**(metadata or {}), IDEMPOTENCY_METADATA_KEY: idempotency_key},
        }
        with translated_errors():
            transfer = self._client.v1.transfers.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        return transfer.to_dict()

    def create_checkout_session(
        self, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        with translated_errors():
            session = self._client.v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        return session.to_dict()

    def create_invoice_item(
        self,
        *,
        customer: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "customer": customer,
            "amount": amount,
            "currency": currency,
            "description": description,
            "metadata": {**(metadata or {}), IDEMPOTENCY_METADATA_KEY: idempotency_key},
        }
        with translated_errors():
            item = self._client.v1.invoice_items.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        return item.to_dict()

    def list_refunds(self, *, charge: str) -> list[dict[str, Any]]:
        with translated_errors():
            page = self._client.v1.refunds.list({"charge": charge, "limit": PAGE_SIZE})
            return [refund.to_dict() for refund in page.auto_paging_iter()]

    def list_invoice_payments(self, *, invoice: str) -> list[dict[str, Any]]:
        with translated_errors():
            page = self._client.v1.invoice_payments.list({"invoice": invoice, "limit": PAGE_SIZE})
            return [payment.to_dict() for payment in page.auto_paging_iter()]

    def list_events(self, *, created_after: int) -> Iterator[dict[str, Any]]:
        # Stripe lists newest first; reconciliation wants the order things happened in.
        with translated_errors():
            page = self._client.v1.events.list(
                {"created": {"gt": created_after}, "limit": PAGE_SIZE}
            )
            events = [event.to_dict() for event in page.auto_paging_iter()]
        events.reverse()
        events.sort(key=lambda event: int(event["created"]))
        return iter(events)
