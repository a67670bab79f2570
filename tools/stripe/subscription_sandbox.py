"""Subscription changes in the offline sandbox, replayed by idempotency key."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import stripe

from core.calendar_months import add_interval
from core.clock import utcnow
from tools.stripe.gateway import StripeNotFound, StripeRequestError
from tools.stripe.sandbox_store import SandboxStore, earlier_outcome, insert_event, load, store

Mutation = Callable[[sqlite3.Connection, dict[str, Any]], None]


class SandboxSubscriptionCalls(SandboxStore):
    """Subscriptions seeded with `put("subscription", ...)`, changed as Stripe changes them.

    A plan change records its proration as pending invoice items (credit for the unused time of
    the old plan, charge for the rest of the period on the new one, to the second, rounded
    half-even) and a `customer.subscription.updated` event; a new interval restarts the period.
    """

    def change_subscription_plan(
        self,
        subscription_id: str,
        *,
        price: str,
        quantity: int,
        proration_behavior: str,
        proration_date: int,
        idempotency_key: str,
    ) -> dict[str, Any]:
        request = {
            "price": price,
            "quantity": quantity,
            "proration_behavior": proration_behavior,
            "proration_date": proration_date,
        }

        def change(db: sqlite3.Connection, sub: dict[str, Any]) -> None:
            new_price = load(db, "price", price) or load(db, "plan", price)
            if new_price is None:
                raise StripeNotFound(f"No such price: '{price}'")
            _change_plan(db, sub, new_price, quantity, proration_behavior, proration_date)

        return self._apply(subscription_id, "change", request, idempotency_key, change)

    def set_cancel_at_period_end(
        self, subscription_id: str, *, cancel: bool, idempotency_key: str
    ) -> dict[str, Any]:
        def flag(db: sqlite3.Connection, sub: dict[str, Any]) -> None:
            sub["cancel_at_period_end"] = cancel
            sub["canceled_at"] = _now() if cancel else None

        request = {"cancel_at_period_end": cancel}
        return self._apply(subscription_id, "cancel_flag", request, idempotency_key, flag)

    def cancel_subscription(self, subscription_id: str, *, idempotency_key: str) -> dict[str, Any]:
        def end(db: sqlite3.Connection, sub: dict[str, Any]) -> None:
            sub.update(status="canceled", canceled_at=_now(), ended_at=_now())

        return self._apply(subscription_id, "cancel", {}, idempotency_key, end)

    def set_pause_collection(
        self, subscription_id: str, *, behavior: str | None, idempotency_key: str
    ) -> dict[str, Any]:
        def pause(db: sqlite3.Connection, sub: dict[str, Any]) -> None:
            sub["pause_collection"] = {"behavior": behavior} if behavior else None

        request = {"pause_collection": behavior}
        return self._apply(subscription_id, "pause", request, idempotency_key, pause)

    def _apply(
        self,
        subscription_id: str,
        operation: str,
        params: dict[str, Any],
        idempotency_key: str,
        mutate: Mutation,
    ) -> dict[str, Any]:
        """Replay the key's first outcome, else change the stored subscription and record it."""
        request = json.dumps({"subscription": subscription_id, operation: params}, sort_keys=True)
        with self._write() as db:
            earlier = earlier_outcome(db, idempotency_key, request)
            if earlier is not None:
                return earlier["subscription"]  # type: ignore[no-any-return]
            sub = load(db, "subscription", subscription_id)
            if sub is None:
                raise StripeNotFound(f"No such subscription: '{subscription_id}'")
            if sub.get("status") == "canceled":
                raise StripeRequestError(
                    "A canceled subscription can only update its metadata.",
                    code="resource_missing" if operation == "cancel" else "subscription_canceled",
                )
            before = json.loads(json.dumps(sub))
            mutate(db, sub)
            store(db, "subscription", sub)
            kind = "deleted" if sub["status"] == "canceled" else "updated"
            insert_event(db, _event(f"customer.subscription.{kind}", sub, before))
            db.execute(
                "INSERT INTO idempotency_keys (key, request, outcome) VALUES (?, ?, ?)",
                (idempotency_key, request, json.dumps({"subscription": sub})),
            )
        return sub


def _change_plan(
    db: sqlite3.Connection,
    sub: dict[str, Any],
    price: dict[str, Any],
    quantity: int,
    proration_behavior: str,
    at: int,
) -> None:
    item = sub["items"]["data"][0]
    old_price = item.get("price") or item.get("plan") or {}
    start, end = _period(sub, item)
    old_total = _amount(old_price) * int(item.get("quantity") or 1)
    new_total = _amount(price) * quantity
    if proration_behavior != "none" and sub.get("status") != "trialing":
        remaining = Fraction(end - at, end - start)
        _proration_item(db, sub, -round(old_total * remaining), "Unused time", at, end)
        if _interval(old_price) == _interval(price):
            _proration_item(db, sub, round(new_total * remaining), "Remaining time", at, end)
        else:  # a new interval restarts the period now, billed in full
            interval, count = _interval(price)
            end = int(add_interval(datetime.fromtimestamp(at, UTC), interval, count).timestamp())
            _proration_item(db, sub, new_total, "New billing period", at, end)
            start = at
    item.update(price=price, plan=price, quantity=quantity)
    item["current_period_start"], item["current_period_end"] = start, end
    sub["quantity"] = quantity


def _proration_item(
    db: sqlite3.Connection, sub: dict[str, Any], amount: int, text: str, start: int, end: int
) -> None:
    store(
        db,
        "invoiceitem",
        {
            "id": f"ii_{secrets.token_hex(12)}",
            "object": "invoiceitem",
            "customer": sub["customer"],
            "subscription": sub["id"],
            "amount": amount,
            "currency": sub.get("currency") or "usd",
            "description": text,
            "proration": True,
            "period": {"start": start, "end": end},
            "invoice": None,
            "date": _now(),
        },
    )


def _period(sub: dict[str, Any], item: dict[str, Any]) -> tuple[int, int]:
    start = item.get("current_period_start", sub.get("current_period_start")) or 0
    end = item.get("current_period_end", sub.get("current_period_end")) or 0
    return int(start), int(end)


def _amount(price: dict[str, Any]) -> int:
    amount = price.get("unit_amount")
    return int(price.get("amount") or 0) if amount is None else int(amount)


def _interval(price: dict[str, Any]) -> tuple[str, int]:
    recurring = price.get("recurring") or price
    return recurring.get("interval") or "month", int(recurring.get("interval_count") or 1)


def _now() -> int:
    return int(utcnow().timestamp())


def _event(kind: str, sub: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    changed = {key: before.get(key) for key in sub if before.get(key) != sub[key]}
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "type": kind,
        "api_version": stripe.api_version,
        "created": _now(),
        "livemode": False,
        "pending_webhooks": 0,
        "data": {"object": sub, "previous_attributes": changed},
    }
