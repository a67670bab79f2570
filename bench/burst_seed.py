"""Set-based seed of a month-start renewal burst: customers, subscriptions, inbox, tasks.

One `invoice.paid` per customer, each a full Stripe-shaped event (~4 KB, the published
invoice fixture with a subscription parent and its paid InvoicePayment embedded, so billing
asks Stripe for nothing). The JSON is rendered once with placeholders and multiplied in
PostgreSQL (`replace()` over `generate_series`), so 100,000 events take seconds, not an ORM
round trip each. Inbox row and `stripe.event` task are exactly what the webhook intake
(`api.intake_batch.store_events`) writes for each delivery; publishing their ids is the caller's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from bench.target import BenchTarget
from tests.support.stripe_events import event, fixture

N = "@N@"  # the customer number, in every id of the event
AMOUNT = "@AMOUNT@"  # where the event carries the amount; the SQL puts an integer there
AMOUNT_SQL = "(1000 * (g % 5 + 1))::text"  # 10.00 to 50.00 by plan, as the seeded price
MAX_ATTEMPTS = 8

SEED = [
    """INSERT INTO customers (id, stripe_customer_id, email, name, stripe_watermark,
           created_at, updated_at)
       SELECT g, 'cus_burst_' || g, 'c' || g || '@example.com', 'Customer ' || g, 0, :t0, :t0
       FROM generate_series(1, :n) g""",
    """INSERT INTO subscriptions (id, stripe_subscription_id, customer_id, status, plan,
           quantity, unit_amount, currency, interval, interval_count, cancel_at_period_end,
           stripe_watermark, created_at, updated_at)
       SELECT g, 'sub_burst_' || g, g, 'active', (ARRAY['basic', 'pro', 'team'])[g % 3 + 1],
              1, 1000 * (g % 5 + 1), 'usd', 'month', 1, false, 0, :t0, :t0
       FROM generate_series(1, :n) g""",
    """INSERT INTO stripe_events (id, type, created, livemode, api_version, payload, source,
           received_at)
       SELECT 'evt_burst_' || g, 'invoice.paid', :created, false, :api_version,
              replace(replace(:template, '"@AMOUNT@"', """
    + AMOUNT_SQL
    + """), '@N@', g::text),
              'webhook', :t0
       FROM generate_series(1, :n) g""",
    """INSERT INTO tasks (kind, agent, payload, dedupe_key, status, attempts, max_attempts,
           available_at, published_at, created_at, updated_at)
       SELECT 'stripe.event', 'billing', jsonb_build_object('event_id', 'evt_burst_' || g),
              'stripe-event:evt_burst_' || g, 'pending', 0, :max_attempts, :t0, :t0, :t0, :t0
       FROM generate_series(1, :n) g ORDER BY g""",
]
SEEDED = ("customers", "subscriptions", "stripe_events", "tasks")


def renewal_template(created: int) -> str:
    """The `invoice.paid` of one monthly renewal, with `@N@` and `@AMOUNT@` to fill in."""
    period_end = created + 30 * 86400
    invoice = fixture(
        "invoice",
        id=f"in_burst_{N}",
        number=f"BURST-{N}",
        customer=f"cus_burst_{N}",
        customer_email=f"c{N}@example.com",
        customer_name=f"Customer {N}",
        status="paid",
        billing_reason="subscription_cycle",
        amount_due=AMOUNT,
        amount_paid=AMOUNT,
        amount_remaining=0,
        subtotal=AMOUNT,
        total=AMOUNT,
        attempt_count=1,
        created=created,
        period_start=created,
        period_end=period_end,
        hosted_invoice_url=f"https://invoice.stripe.com/i/burst_{N}",
        status_transitions={
            "finalized_at": created,
            "marked_uncollectible_at": None,
            "paid_at": created,
            "voided_at": None,
        },
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": f"sub_burst_{N}"},
        },
        payments={
            "object": "list",
            "has_more": False,
            "url": "/v1/invoice_payments",
            "data": [
                {
                    "id": f"inpay_burst_{N}",
                    "object": "invoice_payment",
                    "amount_paid": AMOUNT,
                    "amount_requested": AMOUNT,
                    "currency": "usd",
                    "invoice": f"in_burst_{N}",
                    "is_default": True,
                    "livemode": False,
                    "payment": {
                        "type": "payment_intent",
                        "payment_intent": f"pi_burst_{N}",
                        "charge": f"ch_burst_{N}",
                    },
                    "status": "paid",
                    "status_transitions": {"canceled_at": None, "paid_at": created},
                }
            ],
        },
    )
    paid = event("invoice.paid", invoice, event_id=f"evt_burst_{N}", created=created)
    return json.dumps(paid, separators=(",", ":"))


def seed_renewals(target: BenchTarget, renewals: int) -> list[int]:
    """Seed `renewals` customers with their renewal event and billing task; the task ids."""
    now = datetime.now(UTC).replace(microsecond=0)
    created = int(now.timestamp())
    params = {
        "n": renewals,
        "t0": now,
        "created": created,
        "api_version": event("invoice.paid", {})["api_version"],
        "template": renewal_template(created),
        "max_attempts": MAX_ATTEMPTS,
    }
    with target.database.engine.begin() as connection:
        for statement in SEED:
            connection.execute(text(statement), params)
        for table, sequence_column in (("customers", "id"), ("subscriptions", "id")):
            connection.execute(  # explicit ids above: move the sequences past them
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{sequence_column}'), "
                    f"(SELECT max({sequence_column}) FROM {table}))"
                )
            )
        connection.execute(text(f"ANALYZE {', '.join(SEEDED)}"))
        ids = connection.scalars(
            text("SELECT id FROM tasks WHERE kind = 'stripe.event' ORDER BY id")
        ).all()
    return list(ids)


def amount_of(customer_number: int) -> int:
    """The renewal amount of customer `customer_number`, as `AMOUNT_SQL` computes it."""
    return 1000 * (customer_number % 5 + 1)
