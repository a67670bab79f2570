"""The billing portal call over stripe-python."""

from __future__ import annotations

from typing import Any

from tools.stripe.client_base import ClientBase, translated_errors


class ClientPortalCalls(ClientBase):
    def create_billing_portal_session(
        self, *, customer: str, return_url: str, idempotency_key: str
    ) -> dict[str, Any]:
        with translated_errors():
            session = self._client.v1.billing_portal.sessions.create(
                params={"customer": customer, "return_url": return_url},
                options={"idempotency_key": idempotency_key},
            )
        return session.to_dict()
