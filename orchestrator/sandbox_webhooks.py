"""Deliver the offline sandbox's events as Stripe delivers webhooks: signed, POSTed, in order.

Used by the sandbox checkout page and `moneta sandbox pay-checkout`, so a paid checkout is
mirrored at once instead of waiting for the reconcile job to list the events.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import stripe


class WebhookRefused(RuntimeError):
    """The endpoint did not answer 200 (or could not be reached)."""


def post_event(client: httpx.Client, url: str, event: dict[str, Any], secret: str) -> None:
    """POST `event` to `url` with a `Stripe-Signature` made with `secret`; raise unless 200."""
    body = json.dumps(event, separators=(",", ":"))
    header = stripe.WebhookSignature.generate_signature_header(body, secret)
    try:
        reply = client.post(
            url,
            content=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )
    except httpx.HTTPError as error:
        raise WebhookRefused(f"{url} unreachable: {error}") from error
    if reply.status_code != 200:
        raise WebhookRefused(f"{event['type']} refused: {reply.status_code} {reply.text[:300]}")


def deliver_events(
    client: httpx.Client, url: str, events: list[dict[str, Any]], secret: str
) -> None:
    """Each event in order; the inbox ignores a repeat, so delivering twice is harmless."""
    for event in events:
        post_event(client, url, event, secret)
