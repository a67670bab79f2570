"""What Stripe makes when a Checkout Session is paid, built over the offline sandbox's file.

A subscription session gets the subscription (trialing or active, the period on its item,
the discounts expanded), its first invoice (paid at once, $0 during a trial) and, when money
is due, a payment intent and its charge; a payment session gets the payment intent and
charge. The events Stripe would send are recorded in its order, API 2026-10-28.endive shapes.
"""

from __future__ import annotations

import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from core.calendar_months import MONTHS_PER_INTERVAL, add_interval
from core.clock import utcnow
from tools.stripe.billing_objects import event, first_invoice, pay, record_invoice_payment
from tools.stripe.gateway import StripeNotFound
from tools.stripe.sandbox_store import insert_event, load, store

DAY = 86_400
INTERVAL_DAYS = {"day": 1, "week": 7}


def complete_session(
    db: sqlite3.Connection, session: dict[str, Any], params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Do what Stripe does when `session` (opened with `params`) is paid; return the events."""
    now = int(utcnow().timestamp())
    customer = _customer(db, session, params, now)
    item = params["line_items"][0]
    price = _price(db, item)
    quantity = int(item.get("quantity", 1))
    discounts = _discounts(db, params.get("discounts") or [], price, customer, session, now)
    session.update(customer=customer["id"], customer_details=_details(customer))
    session["discounts"] = [
        {"coupon": d["source"]["coupon"]["id"], "promotion_code": d["promotion_code"]}
        for d in discounts
    ]
    if session["mode"] == "subscription":
        events = _subscribe(db, session, params, price, quantity, discounts, now)
    else:
        subtotal = _amount(price) * quantity
        total = subtotal - discount_amount(subtotal, _coupons(discounts))
        metadata = (params.get("payment_intent_data") or {}).get("metadata") or {}
        intent, events = pay(db, customer["id"], total, session["currency"], metadata, now)
        session.update(payment_intent=intent["id"], amount_subtotal=subtotal)
        session.update(amount_total=total, payment_status="paid")
    session.update(status="complete")
    session["total_details"] = {
        "amount_discount": int(session["amount_subtotal"]) - int(session["amount_total"]),
        "amount_shipping": 0,
        "amount_tax": 0,
    }
    store(db, "checkout_session", session)
    events.append(event("checkout.session.completed", session, now))
    for recorded in events:
        insert_event(db, recorded)
    return events


def discount_amount(subtotal: int, coupons: list[dict[str, Any]]) -> int:
    """What the coupons take off `subtotal`: percents half-even, then amounts, never below 0."""
    left = subtotal
    for coupon in coupons:
        if coupon.get("percent_off") is not None:
            off = Decimal(left) * Decimal(str(coupon["percent_off"])) / 100
            left -= int(off.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        else:
            left -= min(left, int(coupon.get("amount_off") or 0))
    return subtotal - left


def _subscribe(
    db: sqlite3.Connection,
    session: dict[str, Any],
    params: dict[str, Any],
    price: dict[str, Any],
    quantity: int,
    discounts: list[dict[str, Any]],
    now: int,
) -> list[dict[str, Any]]:
    data = params.get("subscription_data") or {}
    trial_days = int(data.get("trial_period_days") or 0)
    trial_end = now + trial_days * DAY if trial_days else None
    sub_id = f"sub_{secrets.token_hex(12)}"
    for discount in discounts:
        discount["subscription"] = sub_id
    end = trial_end or _period_end(now, price)
    item = {
        "id": f"si_{secrets.token_hex(12)}",
        "object": "subscription_item",
        "subscription": sub_id,
        "quantity": quantity,
        "current_period_start": now,
        "current_period_end": end,
        "price": price,
        "plan": price,
        "metadata": {},
        "created": now,
    }
    subscription = {
        "id": sub_id,
        "object": "subscription",
        "customer": session["customer"],
        "status": "trialing" if trial_end else "active",
        "created": now,
        "start_date": now,
        "billing_cycle_anchor": end,
        "trial_start": now if trial_end else None,
        "trial_end": trial_end,
        "cancel_at_period_end": False,
        "cancel_at": None,
        "canceled_at": None,
        "ended_at": None,
        "currency": price["currency"],
        "collection_method": "charge_automatically",
        "discounts": discounts,
        "items": {"object": "list", "data": [item], "has_more": False},
        "metadata": data.get("metadata") or {},
        "pause_collection": None,
        "livemode": False,
    }
    subtotal = 0 if trial_end else _amount(price) * quantity
    total = subtotal - discount_amount(subtotal, _coupons(discounts))
    product = load(db, "product", str(price.get("product"))) or {}
    description = f"{quantity} × {product.get('name') or price.get('nickname') or price['id']}"
    if trial_end:
        description = f"Trial period for {description}"
    invoice = first_invoice(session, subscription, item, (subtotal, total), discounts, description)
    events: list[dict[str, Any]] = []
    if total > 0:
        intent, events = pay(db, session["customer"], total, invoice["currency"], {}, now)
        record_invoice_payment(db, invoice, intent, now)
    subscription["latest_invoice"] = invoice["id"]
    store(db, "subscription", subscription)
    events.append(event("customer.subscription.created", subscription, now))
    for status, kind in (("draft", "created"), ("open", "finalized")):
        events.append(event(f"invoice.{kind}", {**invoice, "status": status}, now))
    invoice.update(status="paid", amount_paid=total, amount_remaining=0)
    store(db, "invoice", invoice)
    events += [event(f"invoice.{kind}", invoice, now) for kind in ("paid", "payment_succeeded")]
    session.update(subscription=sub_id, invoice=invoice["id"], amount_subtotal=subtotal)
    session.update(amount_total=total, payment_status="paid" if total else "no_payment_required")
    return events


def _customer(
    db: sqlite3.Connection, session: dict[str, Any], params: dict[str, Any], now: int
) -> dict[str, Any]:
    """The session's customer, or a new one from `customer_email` (customer_creation)."""
    if session.get("customer"):
        found = load(db, "customer", session["customer"])
        if found is None:
            raise StripeNotFound(f"No such customer: '{session['customer']}'")
        return found
    customer: dict[str, Any] = {
        "id": f"cus_{secrets.token_hex(12)}",
        "object": "customer",
        "email": params.get("customer_email"),
        "name": None,
        "metadata": {},
        "created": now,
        "livemode": False,
    }
    store(db, "customer", customer)
    return customer


def _details(customer: dict[str, Any]) -> dict[str, Any]:
    return {"email": customer.get("email"), "name": customer.get("name"), "tax_exempt": "none"}


def _price(db: sqlite3.Connection, item: dict[str, Any]) -> dict[str, Any]:
    """The line item's stored price (Prices or Plans), or its inline `price_data` as one."""
    if "price_data" in item:
        data = item["price_data"]
        return {"id": f"price_{secrets.token_hex(12)}", "object": "price", "metadata": {}, **data}
    price = load(db, "price", item["price"]) or load(db, "plan", item["price"])
    if price is None:
        raise StripeNotFound(f"No such price: '{item['price']}'")
    return price


def _discounts(
    db: sqlite3.Connection,
    wanted: list[dict[str, str]],
    price: dict[str, Any],
    customer: dict[str, Any],
    session: dict[str, Any],
    now: int,
) -> list[dict[str, Any]]:
    """The session's coupons and promotion codes as expanded Discount objects."""
    found = []
    for entry in wanted:
        code = load(db, "promotion_code", entry.get("promotion_code", ""))
        coupon_id = code["promotion"]["coupon"] if code else entry.get("coupon", "")
        coupon = load(db, "coupon", coupon_id)
        if coupon is None:
            raise StripeNotFound(f"No such coupon: '{coupon_id}'")
        products = (coupon.get("applies_to") or {}).get("products")
        if products and price.get("product") not in products:
            continue  # Stripe applies a restricted coupon to its products only
        found.append(
            {
                "id": f"di_{secrets.token_hex(12)}",
                "object": "discount",
                "source": {"type": "coupon", "coupon": coupon},
                "promotion_code": code["id"] if code else None,
                "customer": customer["id"],
                "checkout_session": session["id"],
                "subscription": None,
                "start": now,
                "end": _discount_end(coupon, now),
            }
        )
    return found


def _coupons(discounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [discount["source"]["coupon"] for discount in discounts]


def _discount_end(coupon: dict[str, Any], now: int) -> int | None:
    if coupon.get("duration") != "repeating":
        return None
    start = datetime.fromtimestamp(now, UTC)
    return int(add_interval(start, "month", int(coupon["duration_in_months"])).timestamp())


def _period_end(now: int, price: dict[str, Any]) -> int:
    recurring = price.get("recurring") or price
    interval = recurring.get("interval") or "month"
    count = int(recurring.get("interval_count") or 1)
    start = datetime.fromtimestamp(now, UTC)
    if interval in MONTHS_PER_INTERVAL:
        return int(add_interval(start, interval, count).timestamp())
    return int((start + timedelta(days=INTERVAL_DAYS[interval] * count)).timestamp())


def _amount(price: dict[str, Any]) -> int:
    amount = price.get("unit_amount")
    return int(price.get("amount") or 0) if amount is None else int(amount)
