"""Signed `invoice.paid` deliveries, each a distinct event, built before the clock starts."""

from __future__ import annotations

import time

from bench.loadgen import post_request
from bench.target import WEBHOOK_SECRET
from tests.support.stripe_events import event, fixture, signed

WEBHOOK_PATH = "/webhooks/stripe"


def invoice_paid(index: int, run_id: str, created: int) -> dict[str, object]:
    """A paid invoice event shaped like Stripe's fixture (~5 KB), unique per `index`."""
    amount = 1000 + index % 9000
    invoice = fixture(
        "invoice",
        id=f"in_bench_{run_id}_{index}",
        customer=f"cus_bench_{index % 500}",
        status="paid",
        amount_due=amount,
        amount_paid=amount,
        amount_remaining=0,
        subtotal=amount,
        total=amount,
        created=created,
    )
    return event("invoice.paid", invoice, event_id=f"evt_bench_{run_id}_{index}", created=created)


def signed_requests(count: int, port: int, run_id: str) -> list[bytes]:
    """`count` raw HTTP requests delivering distinct signed events to the webhook endpoint."""
    now = int(time.time())
    requests = []
    for index in range(count):
        body, signature = signed(invoice_paid(index, run_id, now), WEBHOOK_SECRET, timestamp=now)
        headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
        requests.append(post_request("127.0.0.1", port, WEBHOOK_PATH, body, headers))
    return requests
