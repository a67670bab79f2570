"""The Stripe gateway over stripe-python's `StripeClient` (real Stripe, localstripe or a proxy)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import stripe

from tools.stripe.gateway import (
    IDEMPOTENCY_METADATA_KEY,
    RETRIEVABLE,
    StripeGatewayError,
    StripeNotFound,
    StripeRequestError,
)

_PAGE_SIZE = 100


class StripeClientGateway:
    """Calls Stripe with retries on network errors and 5xx, and explicit idempotency keys."""

    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        max_retries: int = 3,
        timeout: float = 20.0,
    ) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_retries,
            http_client=stripe.new_default_http_client(timeout=timeout),
        )

    @property
    def label(self) -> str:
        if self._api_base:
            return f"stripe at {self._api_base}"
        if self._api_key.startswith(("sk_live_", "rk_live_")):
            return "stripe (live)"
        return "stripe (test mode)"

    def retrieve(self, resource: str, object_id: str) -> dict[str, Any]:
        if resource not in RETRIEVABLE:
            raise ValueError(f"cannot retrieve {resource!r}; one of {RETRIEVABLE}")
        service = getattr(self._client.v1, f"{resource}s")
        with _translated_errors():
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
        with _translated_errors():
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
        with _translated_errors():
            transfer = self._client.v1.transfers.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        return transfer.to_dict()

    def create_checkout_session(
        self, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        with _translated_errors():
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
        with _translated_errors():
            item = self._client.v1.invoice_items.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        return item.to_dict()

    def list_refunds(self, *, charge: str) -> list[dict[str, Any]]:
        with _translated_errors():
            page = self._client.v1.refunds.list({"charge": charge, "limit": _PAGE_SIZE})
            return [refund.to_dict() for refund in page.auto_paging_iter()]

    def list_invoice_payments(self, *, invoice: str) -> list[dict[str, Any]]:
        with _translated_errors():
            page = self._client.v1.invoice_payments.list({"invoice": invoice, "limit": _PAGE_SIZE})
            return [payment.to_dict() for payment in page.auto_paging_iter()]

    def list_events(self, *, created_after: int) -> Iterator[dict[str, Any]]:
        # Stripe lists newest first; reconciliation wants the order things happened in.
        with _translated_errors():
            page = self._client.v1.events.list(
                {"created": {"gt": created_after}, "limit": _PAGE_SIZE}
            )
            events = [event.to_dict() for event in page.auto_paging_iter()]
        events.reverse()
        events.sort(key=lambda event: int(event["created"]))
        return iter(events)


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn stripe-python errors (after its own retries) into the gateway's three kinds."""
    try:
        yield
    except stripe.StripeError as error:
        raise _gateway_error(error) from error


def _gateway_error(error: stripe.StripeError) -> Exception:
    status = error.http_status
    message = error.user_message or str(error) or type(error).__name__
    # 409 is Stripe's "a request with this idempotency key is still running": retry later.
    if status is None or status >= 500 or status in (409, 429):
        return StripeGatewayError(f"stripe unavailable ({status or 'no response'}): {message}")
    if status == 404 or error.code == "resource_missing":
        return StripeNotFound(message)
    return StripeRequestError(message, code=error.code or _error_type(error))


def _error_type(error: stripe.StripeError) -> str | None:
    """Stripe's error `type` (e.g. invalid_request_error) when no finer `code` came back."""
    body = error.json_body if isinstance(error.json_body, dict) else {}
    detail = body.get("error")
    return detail.get("type") if isinstance(detail, dict) else None
