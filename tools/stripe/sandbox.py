"""The offline Stripe stand-in: a small SQLite file, used when no STRIPE_API_KEY is set.

It behaves like Stripe where Moneta depends on it: refunds are capped at what is left of the
charge, idempotency keys replay the first outcome, and a refund records `charge.refunded`.
One SQLite file in WAL mode serves every process and thread; each write is one IMMEDIATE
transaction, so two callers with the same key get one refund.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from typing import Any

import stripe

from core.clock import utcnow
from tools.stripe.action_sandbox import SandboxActionCalls
from tools.stripe.catalog_sandbox import SandboxCatalogCalls
from tools.stripe.checkout_sandbox import SandboxCheckoutCalls
from tools.stripe.discount_sandbox import SandboxDiscountCalls
from tools.stripe.gateway import (
    IDEMPOTENCY_METADATA_KEY,
    RETRIEVABLE,
    StripeNotFound,
    StripeRequestError,
)
from tools.stripe.invoice_sandbox import SandboxInvoiceCalls
from tools.stripe.portal_sandbox import SandboxPortalCalls
from tools.stripe.sandbox_store import SandboxStore, earlier_outcome, insert_event, load, store
from tools.stripe.subscription_sandbox import SandboxSubscriptionCalls


class SandboxGateway(
    SandboxActionCalls,
    SandboxCatalogCalls,
    SandboxCheckoutCalls,
    SandboxDiscountCalls,
    SandboxInvoiceCalls,
    SandboxPortalCalls,
    SandboxSubscriptionCalls,
    SandboxStore,
):
    """Stripe's refund, transfer and event behaviour over a local SQLite file; no money moves.

    Connect accounts exist once seeded with `put("account", {"id": "acct_..."})`.
    """

    def retrieve(self, resource: str, object_id: str) -> dict[str, Any]:
        if resource not in RETRIEVABLE:
            raise ValueError(f"cannot retrieve {resource!r}; one of {RETRIEVABLE}")
        obj = self.get(resource, object_id)
        if obj is None:
            raise StripeNotFound(f"No such {resource}: '{object_id}'")
        return obj

    def create_refund(
        self,
        *,
        amount: int,
        idempotency_key: str,
        charge: str | None = None,
        payment_intent: str | None = None,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        request = json.dumps(
            {
                "amount": amount,
                "charge": charge,
                "payment_intent": payment_intent,
                "reason": reason,
                "metadata": metadata or {},
            },
            sort_keys=True,
        )
        with self._write() as db:
            row = db.execute(
                "SELECT request, outcome FROM idempotency_keys WHERE key = ?", (idempotency_key,)
            ).fetchone()
            if row is None:
                outcome = _refund_outcome(
                    db,
                    amount=amount,
                    idempotency_key=idempotency_key,
                    charge=charge,
                    payment_intent=payment_intent,
                    reason=reason,
                    metadata=metadata or {},
                )
                db.execute(
                    "INSERT INTO idempotency_keys (key, request, outcome) VALUES (?, ?, ?)",
                    (idempotency_key, request, json.dumps(outcome)),
                )
            elif row[0] != request:
                raise StripeRequestError(
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    code="idempotency_error",
                )
            else:
                outcome = json.loads(row[1])
        return _replay(outcome)

    def create_transfer(
        self,
        *,
        destination: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A Connect transfer to a seeded `account`. Refusals are not stored under the key
        (Stripe keeps no result for a request that failed validation), so a retry may pass."""
        request = json.dumps(
            {
                "destination": destination,
                "amount": amount,
                "currency": currency,
                "metadata": metadata or {},
            },
            sort_keys=True,
        )
        with self._write() as db:
            row = db.execute(
                "SELECT request, outcome FROM idempotency_keys WHERE key = ?", (idempotency_key,)
            ).fetchone()
            if row is not None:
                if row[0] != request:
                    raise StripeRequestError(
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with.",
                        code="idempotency_error",
                    )
                return json.loads(row[1])["transfer"]  # type: ignore[no-any-return]
            transfer = _make_transfer(
                db,
                destination=destination,
                amount=amount,
                currency=currency,
                metadata={**(metadata or {}), IDEMPOTENCY_METADATA_KEY: idempotency_key},
            )
            db.execute(
                "INSERT INTO idempotency_keys (key, request, outcome) VALUES (?, ?, ?)",
                (idempotency_key, request, json.dumps({"transfer": transfer})),
            )
        return transfer

    def create_invoice_item(
        self,
        *,
        customer: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A pending invoice item; the same key replays the first item (any customer id)."""
        request = json.dumps(
            {
                "customer": customer,
                "amount": amount,
                "currency": currency,
                "description": description,
                "metadata": metadata or {},
            },
            sort_keys=True,
        )
        with self._write() as db:
            earlier = earlier_outcome(db, idempotency_key, request)
            if earlier is not None:
                return earlier["invoiceitem"]  # type: ignore[no-any-return]
            item = {
                "id": f"ii_{secrets.token_hex(12)}",
                "object": "invoiceitem",
                "customer": customer,
                "amount": amount,
                "currency": currency.lower(),
                "description": description,
                "metadata": {**(metadata or {}), IDEMPOTENCY_METADATA_KEY: idempotency_key},
                "invoice": None,
                "date": int(utcnow().timestamp()),
            }
            store(db, "invoiceitem", item)
            db.execute(
                "INSERT INTO idempotency_keys (key, request, outcome) VALUES (?, ?, ?)",
                (idempotency_key, request, json.dumps({"invoiceitem": item})),
            )
        return item

    def list_refunds(self, *, charge: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT body FROM objects WHERE resource = 'refund' AND charge = ? "
                "ORDER BY seq DESC",
                (charge,),
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def list_invoice_payments(self, *, invoice: str) -> list[dict[str, Any]]:
        """The invoice payments seeded with `put("invoice_payment", ...)` for `invoice`."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT body FROM objects WHERE resource = 'invoice_payment' "
                "AND json_extract(body, '$.invoice') = ? ORDER BY seq",
                (invoice,),
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def list_events(self, *, created_after: int) -> Iterator[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT body FROM events WHERE created > ? ORDER BY created, seq",
                (created_after,),
            ).fetchall()
        return iter([json.loads(body) for (body,) in rows])


def _refund_outcome(
    db: sqlite3.Connection,
    *,
    amount: int,
    idempotency_key: str,
    charge: str | None,
    payment_intent: str | None,
    reason: str | None,
    metadata: dict[str, str],
) -> dict[str, Any]:
    """Make the refund, or the error Stripe would answer, as an outcome to store and replay."""
    try:
        refund = _make_refund(
            db,
            amount=amount,
            charge_id=_charge_id(db, charge, payment_intent),
            reason=reason,
            metadata={**metadata, IDEMPOTENCY_METADATA_KEY: idempotency_key},
        )
    except StripeNotFound as error:
        return {"error": "not_found", "message": str(error)}
    except StripeRequestError as error:
        return {"error": "request", "message": str(error), "code": error.code}
    return {"refund": refund}


def _replay(outcome: dict[str, Any]) -> dict[str, Any]:
    if outcome.get("error") == "not_found":
        raise StripeNotFound(outcome["message"])
    if outcome.get("error") == "request":
        raise StripeRequestError(outcome["message"], code=outcome["code"])
    return outcome["refund"]  # type: ignore[no-any-return]


def _charge_id(db: sqlite3.Connection, charge: str | None, payment_intent: str | None) -> str:
    if charge is not None:
        return charge
    if payment_intent is None:
        raise StripeRequestError(
            "One of `charge` or `payment_intent` is required.", code="parameter_missing"
        )
    intent = load(db, "payment_intent", payment_intent)
    if intent is None:
        raise StripeNotFound(f"No such payment_intent: '{payment_intent}'")
    latest = intent.get("latest_charge")
    if isinstance(latest, dict):
        latest = latest.get("id")
    if not latest:
        raise StripeRequestError(
            f"PaymentIntent {payment_intent} has no charge to refund.", code="charge_not_found"
        )
    return str(latest)


def _make_refund(
    db: sqlite3.Connection,
    *,
    amount: int,
    charge_id: str,
    reason: str | None,
    metadata: dict[str, str],
) -> dict[str, Any]:
    charge = load(db, "charge", charge_id)
    if charge is None:
        raise StripeNotFound(f"No such charge: '{charge_id}'")
    if amount <= 0:
        raise StripeRequestError(
            "Refund amount must be a positive integer.", code="parameter_invalid_integer"
        )
    refunded_before = int(charge.get("amount_refunded") or 0)
    remaining = int(charge["amount"]) - refunded_before
    if remaining <= 0:
        raise StripeRequestError(
            f"Charge {charge_id} has already been refunded.", code="charge_already_refunded"
        )
    if amount > remaining:
        raise StripeRequestError(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            code="amount_too_large",
        )
    now = int(utcnow().timestamp())
    refund = {
        "id": f"re_{secrets.token_hex(12)}",
        "object": "refund",
        "amount": amount,
        "currency": charge["currency"],
        "charge": charge_id,
        "payment_intent": charge.get("payment_intent"),
        "reason": reason,
        "metadata": metadata,
        "status": "succeeded",
        "created": now,
    }
    store(db, "refund", refund)
    charge["amount_refunded"] = refunded_before + amount
    charge["refunded"] = charge["amount_refunded"] >= int(charge["amount"])
    store(db, "charge", charge)
    event = {
        "id": f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "type": "charge.refunded",
        "api_version": stripe.api_version,
        "created": now,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": metadata[IDEMPOTENCY_METADATA_KEY]},
        "data": {
            "object": charge,
            "previous_attributes": {
                "amount_refunded": refunded_before,
                "refunded": False,
            },
        },
    }
    insert_event(db, event)
    return refund


def _make_transfer(
    db: sqlite3.Connection,
    *,
    destination: str,
    amount: int,
    currency: str,
    metadata: dict[str, str],
) -> dict[str, Any]:
    if amount <= 0:
        raise StripeRequestError(
            "Transfer amount must be a positive integer.", code="parameter_invalid_integer"
        )
    if load(db, "account", destination) is None:
        raise StripeRequestError(
            f"No such destination: '{destination}'", code="invalid_destination"
        )
    transfer = {
        "id": f"tr_{secrets.token_hex(12)}",
        "object": "transfer",
        "amount": amount,
        "currency": currency.lower(),
        "destination": destination,
        "metadata": metadata,
        "reversed": False,
        "created": int(utcnow().timestamp()),
    }
    store(db, "transfer", transfer)
    return transfer
