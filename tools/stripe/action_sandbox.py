"""Operator-action calls in the offline sandbox, replayed by idempotency key as Stripe does.

Each call checks what Stripe checks (the customer's currency, an open invoice, a live
subscription), changes the stored objects, and records the events Stripe would send.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable
from typing import Any

from core.clock import utcnow
from tools.stripe.billing_objects import event, pay, record_invoice_payment
from tools.stripe.gateway import StripeNotFound, StripeRequestError
from tools.stripe.sandbox_store import SandboxStore, earlier_outcome, insert_event, load, store

Make = Callable[[sqlite3.Connection, int], dict[str, Any]]


class SandboxActionCalls(SandboxStore):
    def create_balance_transaction(
        self,
        *,
        customer: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        def make(db: sqlite3.Connection, now: int) -> dict[str, Any]:
            found = _load(db, "customer", customer)
            own = (found.get("currency") or currency).lower()
            if own != currency.lower():
                raise StripeRequestError(
                    f"The customer's balance is in {own}, not {currency}.",
                    code="currency_mismatch",
                )
            ending = int(found.get("balance") or 0) + amount
            found.update(balance=ending, currency=own)
            store(db, "customer", found)
            insert_event(db, event("customer.updated", found, now))
            txn = {
                "id": f"cbtxn_{secrets.token_hex(12)}",
                "object": "customer_balance_transaction",
                "amount": amount,
                "currency": own,
                "customer": customer,
                "description": description,
                "ending_balance": ending,
                "type": "adjustment",
                "metadata": metadata or {},
                "created": now,
                "livemode": False,
            }
            store(db, "customer_balance_transaction", txn)
            return txn

        request = {"customer": customer, "amount": amount, "currency": currency}
        return self._action_once("balance_transaction", request, idempotency_key, make)

    def set_trial_end(
        self, subscription_id: str, *, trial_end: int, idempotency_key: str
    ) -> dict[str, Any]:
        def make(db: sqlite3.Connection, now: int) -> dict[str, Any]:
            sub = _load(db, "subscription", subscription_id)
            if sub.get("status") == "canceled" or trial_end <= now:
                raise StripeRequestError(
                    "trial_end must be a future time.", code="parameter_invalid"
                )
            sub["trial_end"] = trial_end
            for item in (sub.get("items") or {}).get("data") or []:
                item["current_period_end"] = trial_end
            store(db, "subscription", sub)
            insert_event(db, event("customer.subscription.updated", sub, now))
            return sub

        request = {"subscription": subscription_id, "trial_end": trial_end}
        return self._action_once("trial_end", request, idempotency_key, make)

    def charge_one_off(
        self,
        *,
        customer: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        def make(db: sqlite3.Connection, now: int) -> dict[str, Any]:
            _load(db, "customer", customer)
            intent, events = pay(db, customer, amount, currency, metadata or {}, now)
            invoice = _one_off_invoice(customer, amount, currency, description, now)
            invoice.update(metadata=metadata or {}, payment_intent=intent["id"])
            store(db, "invoice", invoice)
            record_invoice_payment(db, invoice, intent, now)
            for made in [event("invoice.finalized", invoice, now), *events]:
                insert_event(db, made)
            insert_event(db, event("invoice.paid", invoice, now))
            return invoice

        request = {"customer": customer, "amount": amount, "currency": currency}
        return self._action_once("one_off_charge", request, idempotency_key, make)

    def mark_invoice_uncollectible(self, invoice: str, *, idempotency_key: str) -> dict[str, Any]:
        def make(db: sqlite3.Connection, now: int) -> dict[str, Any]:
            found = _load(db, "invoice", invoice)
            if found.get("status") != "open":
                status = found.get("status")
                raise StripeRequestError(
                    f"Only an open invoice can be marked uncollectible; it is {status}.",
                    code="invoice_not_open",
                )
            found["status"] = "uncollectible"
            found["auto_advance"] = False
            transitions = found.setdefault("status_transitions", {})
            transitions["marked_uncollectible_at"] = now
            store(db, "invoice", found)
            insert_event(db, event("invoice.marked_uncollectible", found, now))
            return found

        return self._action_once("uncollectible", {"invoice": invoice}, idempotency_key, make)

    def _action_once(
        self, operation: str, params: dict[str, Any], idempotency_key: str, make: Make
    ) -> dict[str, Any]:
        """The key's first outcome again, else `make` it and remember it under the key."""
        request = json.dumps({operation: params}, sort_keys=True)
        with self._write() as db:
            earlier = earlier_outcome(db, idempotency_key, request)
            if earlier is not None:
                return earlier["object"]  # type: ignore[no-any-return]
            made = make(db, int(utcnow().timestamp()))
            db.execute(
                "INSERT INTO idempotency_keys (key, request, outcome) VALUES (?, ?, ?)",
                (idempotency_key, request, json.dumps({"object": made})),
            )
        return made


def _load(db: sqlite3.Connection, resource: str, object_id: str) -> dict[str, Any]:
    found = load(db, resource, object_id)
    if found is None:
        raise StripeNotFound(f"No such {resource}: '{object_id}'")
    return found


def _one_off_invoice(
    customer: str, amount: int, currency: str, description: str, now: int
) -> dict[str, Any]:
    """A paid invoice of one line, not tied to a subscription."""
    invoice_id = f"in_{secrets.token_hex(12)}"
    line = {
        "id": f"il_{secrets.token_hex(12)}",
        "object": "line_item",
        "invoice": invoice_id,
        "amount": amount,
        "subtotal": amount,
        "currency": currency,
        "description": description,
        "quantity": 1,
        "period": {"start": now, "end": now},
        "discount_amounts": [],
        "taxes": [],
        "metadata": {},
        "parent": {"type": "invoice_item_details", "invoice_item_details": {"proration": False}},
    }
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": customer,
        "status": "paid",
        "number": f"SBX-{secrets.token_hex(4).upper()}-0001",
        "currency": currency,
        "description": description,
        "amount_due": amount,
        "amount_paid": amount,
        "amount_remaining": 0,
        "subtotal": amount,
        "total": amount,
        "total_excluding_tax": amount,
        "total_discount_amounts": [],
        "total_taxes": [],
        "billing_reason": "manual",
        "collection_method": "charge_automatically",
        "attempt_count": 1,
        "attempted": True,
        "auto_advance": False,
        "period_start": now,
        "period_end": now,
        "created": now,
        "hosted_invoice_url": None,
        "status_transitions": {"finalized_at": now, "paid_at": now},
        "parent": None,
        "lines": {"object": "list", "data": [line], "has_more": False, "total_count": 1},
        "livemode": False,
    }
