"""The Stripe gateway protocol: the few calls Moneta makes, with plain dicts in and out.

Implementations: `tools.stripe.client.StripeClientGateway` (stripe-python, real Stripe or
localstripe) and `tools.stripe.sandbox.SandboxGateway` (offline, a local SQLite file).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from tools.stripe.action_calls import ActionCalls
from tools.stripe.catalog_calls import CatalogCalls
from tools.stripe.discount_calls import DiscountCalls
from tools.stripe.invoice_calls import InvoiceCalls
from tools.stripe.portal_calls import PortalCalls
from tools.stripe.subscription_calls import SubscriptionCalls

RETRIEVABLE = (
    "customer",
    "subscription",
    "invoice",
    "charge",
    "payment_intent",
    "refund",
    "dispute",
    "transfer",
)

# Every refund carries its idempotency key here, so one made before a crash can be found again.
IDEMPOTENCY_METADATA_KEY = "moneta_idempotency_key"


class StripeGatewayError(Exception):
    """A call that may succeed if retried with the same idempotency key (network, 5xx, 429)."""


class StripeNotFound(Exception):
    """The object does not exist on Stripe's side."""


class StripeRequestError(Exception):
    """Stripe refused the request as given (4xx other than 404/429): do not retry as is."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class StripeGateway(
    ActionCalls, CatalogCalls, DiscountCalls, InvoiceCalls, PortalCalls, SubscriptionCalls, Protocol
):
    @property
    def label(self) -> str:
        """Human-readable target, e.g. 'stripe (test mode)' or 'offline sandbox'."""
        ...

    def retrieve(self, resource: str, object_id: str) -> dict[str, Any]:
        """Fetch one object; `resource` is one of RETRIEVABLE. Raises StripeNotFound."""
        ...

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
        """Refund `amount` minor units of a charge or payment intent, exactly once per key."""
        ...

    def create_transfer(
        self,
        *,
        destination: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Move `amount` minor units to a Connect account, exactly once per key (payouts)."""
        ...

    def create_checkout_session(
        self, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """Open a Checkout Session (`params` as Stripe takes them); returns it with its `url`."""
        ...

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
        """A pending charge of `amount` minor units on the customer's next invoice, once per key."""
        ...

    def list_refunds(self, *, charge: str) -> list[dict[str, Any]]:
        """Refunds of one charge (to find a refund made before a crash, by its metadata)."""
        ...

    def list_invoice_payments(self, *, invoice: str) -> list[dict[str, Any]]:
        """Every InvoicePayment of one invoice (endive webhooks leave `invoice.payments` out)."""
        ...

    def list_events(self, *, created_after: int) -> Iterator[dict[str, Any]]:
        """Events created after the given unix time, oldest first (for reconciliation)."""
        ...
