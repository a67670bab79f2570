"""The billing portal call in the offline sandbox: a session object, replayed by key.

The sandbox has no hosted pages: the session's `url` is Stripe-shaped but leads nowhere.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from core.clock import utcnow
from tools.stripe.gateway import StripeNotFound
from tools.stripe.sandbox_store import SandboxStore, earlier_outcome, load, store

RESOURCE = "billing_portal.session"


class SandboxPortalCalls(SandboxStore):
    def create_billing_portal_session(
        self, *, customer: str, return_url: str, idempotency_key: str
    ) -> dict[str, Any]:
        request = json.dumps({"create": RESOURCE, "customer": customer, "return_url": return_url})
        with self._write() as db:
            earlier = earlier_outcome(db, idempotency_key, request)
            if earlier is not None:
                return earlier[RESOURCE]  # type: ignore[no-any-return]
            if load(db, "customer", customer) is None:
                raise StripeNotFound(f"No such customer: '{customer}'")
            token = secrets.token_urlsafe(24)
            session = {
                "id": f"bps_{secrets.token_hex(12)}",
                "object": RESOURCE,
                "configuration": "bpc_sandbox_default",
                "created": int(utcnow().timestamp()),
                "customer": customer,
                "flow": None,
                "livemode": False,
                "locale": None,
                "on_behalf_of": None,
                "return_url": return_url,
                "url": f"https://billing.stripe.com/p/session/test_{token}",
            }
            store(db, RESOURCE, session)
            db.execute(
                "INSERT INTO idempotency_keys (key, request, outcome) VALUES (?, ?, ?)",
                (idempotency_key, request, json.dumps({RESOURCE: session})),
            )
        return session
