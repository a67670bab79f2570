"""A scripted customer journey as Stripe would send it (API 2026-10-28.endive shapes).

Signup, trial, first payment, a failed renewal, the recovery, all compressed into today so the
daily snapshot shows them. Pure: builds dicts only; the
`moneta demo` command signs and posts them and seeds the offline sandbox with the charges and
invoice payments (which real Stripe leaves out of `invoice.paid`, so billing fetches them).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

API_VERSION = "2026-10-28.endive"
DAY = 86_400
PRO_MONTHLY = 9_900


@dataclass
class Journey:
    """Ids of one demo customer, and the events of their story in order."""

    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    start: int = 0
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    charges: list[dict[str, Any]] = field(default_factory=list)
    invoice_payments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def customer(self) -> str:
        return f"cus_demo{self.suffix}"

    @property
    def subscription(self) -> str:
        return f"sub_demo{self.suffix}"

    @property
    def email(self) -> str:
        return f"ana+{self.suffix}@example.com"


def build_journey(now: int) -> Journey:
    journey = Journey(start=now)
    trial_end = now + 14 * DAY
    period_end = now + 30 * DAY
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("signup", "customer.created", _customer(journey, now)),
        ("checkout (trial)", "checkout.session.completed", _checkout(journey, now)),
        (
            "trial starts",
            "customer.subscription.created",
            _subscription(journey, now, "trialing", now, trial_end, trial_end),
        ),
        (
            "trial ending soon",
            "customer.subscription.trial_will_end",
            _subscription(journey, now, "trialing", now, trial_end, trial_end),
        ),
        (
            "trial converts",
            "customer.subscription.updated",
            _subscription(journey, now, "active", now, period_end, trial_end),
        ),
        ("first payment", "invoice.paid", _invoice(journey, 1, now, period_end, now, paid=True)),
        (
            "renewal fails",
            "invoice.payment_failed",
            _invoice(journey, 2, period_end, period_end + 30 * DAY, now, paid=False),
        ),
        (
            "subscription past due",
            "customer.subscription.updated",
            _subscription(journey, now, "past_due", period_end, period_end + 30 * DAY, trial_end),
        ),
        (
            "renewal recovered",
            "invoice.paid",
            _invoice(journey, 2, period_end, period_end + 30 * DAY, now, paid=True),
        ),
        (
            "subscription active again",
            "customer.subscription.updated",
            _subscription(journey, now, "active", period_end, period_end + 30 * DAY, trial_end),
        ),
    ]
    for offset, (label, event_type, obj) in enumerate(steps):
        journey.events.append((label, _event(event_type, obj, now + offset)))
    return journey


def _event(event_type: str, obj: dict[str, Any], created: int) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": event_type,
        "api_version": API_VERSION,
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }


def _customer(j: Journey, now: int) -> dict[str, Any]:
    return {
        "id": j.customer,
        "object": "customer",
        "email": j.email,
        "name": "Ana Demo",
        "created": now,
        "metadata": {},
        "livemode": False,
    }


def _checkout(j: Journey, now: int) -> dict[str, Any]:
    return {
        "id": f"cs_demo{j.suffix}",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "no_payment_required",
        "customer": j.customer,
        "subscription": j.subscription,
        "client_reference_id": f"user-{j.suffix}",
        "customer_details": {"email": j.email},
        "amount_total": 0,
        "currency": "usd",
        "created": now,
        "metadata": {},
    }


def _price() -> dict[str, Any]:
    return {
        "id": "price_demo_pro_monthly",
        "object": "price",
        "currency": "usd",
        "unit_amount": PRO_MONTHLY,
        "lookup_key": "pro",
        "product": "prod_demo_pro",
        "recurring": {"interval": "month", "interval_count": 1},
        "metadata": {"plan": "pro"},
    }


def _subscription(
    j: Journey, created: int, status: str, start: int, end: int, trial_end: int
) -> dict[str, Any]:
    item = {
        "id": f"si_demo{j.suffix}",
        "object": "subscription_item",
        "quantity": 1,
        "current_period_start": start,
        "current_period_end": end,
        "price": _price(),
    }
    return {
        "id": j.subscription,
        "object": "subscription",
        "customer": j.customer,
        "status": status,
        "created": created,
        "start_date": created,
        "trial_start": created,
        "trial_end": trial_end,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "currency": "usd",
        "discounts": [],
        "items": {"object": "list", "data": [item]},
        "metadata": {},
    }


def _invoice(j: Journey, n: int, start: int, end: int, at: int, *, paid: bool) -> dict[str, Any]:
    """Invoice `n` for the period start..end, attempted (and paid, if `paid`) at `at`."""
    invoice_id = f"in_demo{j.suffix}{n}"
    charge_id = f"ch_demo{j.suffix}{n}"
    payments: list[dict[str, Any]] = []
    if paid:
        payments.append(
            {
                "object": "invoice_payment",
                "status": "paid",
                "amount_paid": PRO_MONTHLY,
                "payment": {"type": "charge", "charge": charge_id},
            }
        )
        j.charges.append(
            {
                "id": charge_id,
                "object": "charge",
                "amount": PRO_MONTHLY,
                "amount_refunded": 0,
                "currency": "usd",
                "customer": j.customer,
                "paid": True,
                "refunded": False,
                "status": "succeeded",
                "created": at,
            }
        )
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": j.customer,
        "status": "paid" if paid else "open",
        "number": f"DEMO-{j.suffix[:4].upper()}-{n}",
        "amount_due": PRO_MONTHLY,
        "amount_paid": PRO_MONTHLY if paid else 0,
        "amount_remaining": 0 if paid else PRO_MONTHLY,
        "currency": "usd",
        "billing_reason": "subscription_create" if n == 1 else "subscription_cycle",
        "attempt_count": 1,
        "period_start": start,
        "period_end": end,
        "created": at,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/demo/{invoice_id}",
        "status_transitions": {"paid_at": at if paid else None},
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": j.subscription, "metadata": {}},
        },
        "payments": {"object": "list", "data": payments},
    }
