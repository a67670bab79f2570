"""Build realistic, signed Stripe webhook payloads from Stripe's published fixtures."""

from __future__ import annotations

import copy
import json
import time
import uuid
from pathlib import Path
from typing import Any

import stripe

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "stripe" / "fixtures3.json"
API_VERSION = "2026-10-28.endive"
_cache: dict[str, Any] = {}


def fixture(resource: str, **overrides: Any) -> dict[str, Any]:
    """A deep copy of Stripe's example `resource` (e.g. "invoice") with top-level overrides."""
    if not _cache:
        _cache.update(json.loads(FIXTURES.read_text())["resources"])
    obj = copy.deepcopy(_cache[resource])
    obj.update(overrides)
    return obj  # type: ignore[no-any-return]


def event(
    event_type: str,
    obj: dict[str, Any],
    *,
    created: int | None = None,
    event_id: str | None = None,
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Wrap `obj` in an event envelope as Stripe sends it."""
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": event_type,
        "api_version": API_VERSION,
        "created": created if created is not None else int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": data,
    }


def signed(
    payload: dict[str, Any] | str, secret: str, *, timestamp: int | None = None
) -> tuple[bytes, str]:
    """(raw body, Stripe-Signature header) exactly as Stripe would deliver them."""
    body = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return body.encode(), header
