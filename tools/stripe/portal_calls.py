"""The Stripe call behind the customer portal link: a billing portal session.

Only the protocol lives here, importing nothing of `tools.stripe`, so `gateway.py` can take it
as a base without an import cycle; `portal_client.py` and `portal_sandbox.py` implement it.
"""

from __future__ import annotations

from typing import Any, Protocol


class PortalCalls(Protocol):
    def create_billing_portal_session(
        self, *, customer: str, return_url: str, idempotency_key: str
    ) -> dict[str, Any]:
        """A session of Stripe's hosted billing portal for `customer` (its `url` is short-lived);
        raises StripeNotFound for an unknown customer."""
        ...
