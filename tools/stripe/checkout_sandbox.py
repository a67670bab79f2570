"""Checkout Sessions in the offline sandbox: opened as Stripe opens them, paid on Moneta's page.

Stripe hosts the page a customer pays on; offline, the session's `url` is the running API's
`/sandbox/checkout/<id>` (`api/sandbox/`), and paying there (or `moneta sandbox
pay-checkout`) completes the session as Stripe would (`checkout_objects.py`). The parameters
a session was opened with and the page's form token are kept beside it, not on it.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

from core.clock import utcnow
from tools.stripe.catalog_sandbox import line_item_terms
from tools.stripe.checkout_objects import complete_session
from tools.stripe.gateway import StripeNotFound, StripeRequestError
from tools.stripe.sandbox_store import SandboxStore, load, store

SESSION = "checkout_session"
TERMS = "sandbox.checkout_terms"  # {id, params, form_token, events}: the sandbox's own record
DEFAULT_PAGE_BASE = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class CheckoutPage:
    """What the sandbox page shows of an open (or completed) session."""

    session: dict[str, Any]
    params: dict[str, Any]
    form_token: str
    price: dict[str, Any]
    product: dict[str, Any]
    coupons: list[dict[str, Any]]


@dataclass(frozen=True)
class PaidCheckout:
    session: dict[str, Any]
    events: list[dict[str, Any]]  # to deliver, in Stripe's order; the same on a repeat


class SandboxCheckoutCalls(SandboxStore):
    """`create_checkout_session` of the gateway, plus the sandbox-only page data and payment."""

    # Where the API serves the checkout page; wiring sets it from the settings.
    checkout_page_base = DEFAULT_PAGE_BASE

    def create_checkout_session(
        self, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """An open session priced from `params`' line items; the same key returns it again."""
        request = json.dumps(params, sort_keys=True)
        with self._write() as db:
            row = db.execute(
                "SELECT outcome FROM idempotency_keys WHERE key = ?", (idempotency_key,)
            ).fetchone()
            if row is not None:
                return json.loads(row[0])[SESSION]  # type: ignore[no-any-return]
            session = _open_session(db, params, self.checkout_page_base.rstrip("/"))
            store(db, SESSION, session)
            terms = {"id": session["id"], "params": params, "events": None}
            store(db, TERMS, {**terms, "form_token": secrets.token_urlsafe(24)})
            db.execute(
                "INSERT INTO idempotency_keys (key, request, outcome) VALUES (?, ?, ?)",
                (idempotency_key, request, json.dumps({SESSION: session})),
            )
        return session

    def checkout_page(self, session_id: str) -> CheckoutPage:
        """The session, what it sells and its form token; StripeNotFound for an unknown id."""
        with self._connect() as db:
            session, terms = _session_and_terms(db, session_id)
            item = terms["params"]["line_items"][0]
            price = load(db, "price", item.get("price", "")) or {
                "id": None,
                "unit_amount": line_item_terms(db, item)[0],
                "currency": session["currency"],
                **item.get("price_data", {}),
            }
            product = load(db, "product", str(price.get("product"))) or {
                "name": (item.get("price_data") or {}).get("product_data", {}).get("name", "")
            }
            coupons = [_coupon_of(db, entry) for entry in terms["params"].get("discounts") or []]
        return CheckoutPage(session, terms["params"], terms["form_token"], price, product, coupons)

    def pay_checkout_session(self, session_id: str) -> PaidCheckout:
        """Pay with the test card: complete the session once; a repeat returns the same events."""
        with self._write() as db:
            session, terms = _session_and_terms(db, session_id)
            if terms["events"] is not None:
                events = [_load_event(db, event_id) for event_id in terms["events"]]
                return PaidCheckout(session, events)
            expires_at = session.get("expires_at")
            if session["status"] != "open" or (expires_at and expires_at < utcnow().timestamp()):
                raise StripeRequestError(
                    f"Checkout Session {session_id} is no longer open.",
                    code="checkout_session_expired",
                )
            events = complete_session(db, session, terms["params"])
            store(db, TERMS, {**terms, "events": [event["id"] for event in events]})
        return PaidCheckout(session, events)


def _session_and_terms(
    db: sqlite3.Connection, session_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    session, terms = load(db, SESSION, session_id), load(db, TERMS, session_id)
    if session is None or terms is None:
        raise StripeNotFound(f"No such checkout.session: '{session_id}'")
    return session, terms


def _coupon_of(db: sqlite3.Connection, entry: dict[str, str]) -> dict[str, Any]:
    code = load(db, "promotion_code", entry.get("promotion_code", ""))
    coupon_id = code["promotion"]["coupon"] if code else entry.get("coupon", "")
    return {**(load(db, "coupon", coupon_id) or {}), "code": code["code"] if code else None}


def _load_event(db: sqlite3.Connection, event_id: str) -> dict[str, Any]:
    row = db.execute("SELECT body FROM events WHERE id = ?", (event_id,)).fetchone()
    return json.loads(row[0])  # type: ignore[no-any-return]


def _open_session(db: sqlite3.Connection, params: dict[str, Any], base: str) -> dict[str, Any]:
    """A Checkout Session as Stripe returns it when created: open, unpaid, with a URL."""
    session_id = f"cs_test_{secrets.token_hex(12)}"
    terms = [(line_item_terms(db, item), item) for item in params.get("line_items", [])]
    total = sum(amount * int(item.get("quantity", 1)) for (amount, _), item in terms)
    return {
        "id": session_id,
        "object": "checkout.session",
        "mode": params.get("mode", "payment"),
        "status": "open",
        "payment_status": "unpaid",
        "amount_subtotal": total,
        "amount_total": total,
        "currency": terms[0][0][1] if terms else "usd",
        "customer": params.get("customer"),
        "customer_email": params.get("customer_email"),
        "client_reference_id": params.get("client_reference_id"),
        "metadata": params.get("metadata", {}),
        "discounts": params.get("discounts", []),
        "payment_intent": None,
        "subscription": None,
        "invoice": None,
        "expires_at": params.get("expires_at"),
        "success_url": params.get("success_url"),
        "cancel_url": params.get("cancel_url"),
        "url": f"{base}/sandbox/checkout/{session_id}",
        "created": int(utcnow().timestamp()),
        "livemode": False,
    }
