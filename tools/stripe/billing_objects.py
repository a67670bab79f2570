"""The invoice, payment intent, charge and event objects the offline sandbox makes when a
Checkout Session is paid (`checkout_objects.py`), in API 2026-10-28.endive shapes."""

from __future__ import annotations

import copy
import secrets
import sqlite3
from typing import Any

import stripe

from tools.stripe.sandbox_store import store

# The card the sandbox page "pays" with: Stripe's test Visa.
TEST_CARD = {
    "brand": "visa",
    "last4": "4242",
    "exp_month": 12,
    "exp_year": 2034,
    "fingerprint": "sandbox4242",
    "funding": "credit",
    "country": "US",
}


def first_invoice(
    session: dict[str, Any],
    subscription: dict[str, Any],
    item: dict[str, Any],
    amounts: tuple[int, int],
    discounts: list[dict[str, Any]],
    description: str,
) -> dict[str, Any]:
    """The first invoice, a draft; one line for the item, the discount on it."""
    subtotal, total = amounts
    now = int(subscription["created"])
    invoice_id = f"in_{secrets.token_hex(12)}"
    # Moneta's checkout applies one discount; the whole reduction is that discount's.
    off = [{"amount": subtotal - total, "discount": d["id"]} for d in discounts[:1]]
    product = item["price"].get("product")
    line = {
        "id": f"il_{secrets.token_hex(12)}",
        "object": "line_item",
        "invoice": invoice_id,
        "amount": subtotal,
        "subtotal": subtotal,
        "currency": subscription["currency"],
        "description": description,
        "quantity": item["quantity"],
        "period": {"start": now, "end": item["current_period_end"]},
        "discount_amounts": off,
        "discounts": [d["id"] for d in discounts],
        "taxes": [],
        "metadata": {},
        "parent": {
            "type": "subscription_item_details",
            "subscription_item_details": {
                "subscription": subscription["id"],
                "subscription_item": item["id"],
                "proration": False,
                "invoice_item": None,
            },
        },
        "pricing": {
            "type": "price_details",
            "price_details": {"price": item["price"]["id"], "product": product},
            "unit_amount_decimal": str(item["price"].get("unit_amount")),
        },
    }
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": subscription["customer"],
        "customer_email": (session.get("customer_details") or {}).get("email"),
        "status": "draft",
        "number": f"SBX-{secrets.token_hex(4).upper()}-0001",
        "currency": subscription["currency"],
        "amount_due": total,
        "amount_paid": 0,
        "amount_remaining": total,
        "subtotal": subtotal,
        "total": total,
        "total_excluding_tax": total,
        "total_discount_amounts": off,
        "total_taxes": [],
        "discounts": [d["id"] for d in discounts],
        "billing_reason": "subscription_create",
        "collection_method": "charge_automatically",
        "attempt_count": 1 if total else 0,
        "attempted": bool(total),
        "auto_advance": False,
        "period_start": now,
        "period_end": now,
        "created": now,
        "hosted_invoice_url": None,
        "status_transitions": {"finalized_at": now, "paid_at": now},
        "parent": {
            "type": "subscription_details",
            "subscription_details": {
                "subscription": subscription["id"],
                "metadata": subscription["metadata"],
            },
        },
        "lines": {"object": "list", "data": [line], "has_more": False, "total_count": 1},
        "livemode": False,
    }


def pay(
    db: sqlite3.Connection,
    customer: str,
    amount: int,
    currency: str,
    metadata: dict[str, Any],
    now: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A succeeded payment intent and its charge, stored, with their events."""
    intent_id, charge_id = f"pi_{secrets.token_hex(12)}", f"ch_{secrets.token_hex(12)}"
    charge = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "currency": currency,
        "customer": customer,
        "payment_intent": intent_id,
        "paid": True,
        "captured": True,
        "refunded": False,
        "disputed": False,
        "status": "succeeded",
        "failure_code": None,
        "outcome": {
            "type": "authorized",
            "network_status": "approved_by_network",
            "risk_level": "normal",
            "seller_message": "Payment complete.",
        },
        "payment_method_details": {"type": "card", "card": TEST_CARD},
        "metadata": metadata,
        "created": now,
        "livemode": False,
    }
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": currency,
        "customer": customer,
        "status": "succeeded",
        "latest_charge": charge_id,
        "payment_method_types": ["card"],
        "metadata": metadata,
        "created": now,
        "livemode": False,
    }
    store(db, "charge", charge)
    store(db, "payment_intent", intent)
    events = [event("charge.succeeded", charge, now)]
    return intent, [*events, event("payment_intent.succeeded", intent, now)]


def record_invoice_payment(
    db: sqlite3.Connection, invoice: dict[str, Any], intent: dict[str, Any], now: int
) -> None:
    """The InvoicePayment (listed by `list_invoice_payments`); webhooks leave `payments` out."""
    store(
        db,
        "invoice_payment",
        {
            "id": f"inpay_{secrets.token_hex(12)}",
            "object": "invoice_payment",
            "invoice": invoice["id"],
            "amount_paid": intent["amount"],
            "amount_requested": intent["amount"],
            "currency": intent["currency"],
            "is_default": True,
            "status": "paid",
            "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
            "status_transitions": {"paid_at": now, "canceled_at": None},
            "created": now,
            "livemode": False,
        },
    )


def event(kind: str, obj: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "type": kind,
        "api_version": stripe.api_version,
        "created": now,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": copy.deepcopy(obj)},
    }
