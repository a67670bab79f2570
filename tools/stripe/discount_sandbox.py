"""Coupons, promotion codes and tax rates in the offline sandbox, replayed by idempotency key."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable
from typing import Any

from core.clock import utcnow
from tools.stripe.gateway import StripeNotFound, StripeRequestError
from tools.stripe.sandbox_store import SandboxStore, earlier_outcome, load, store


class SandboxDiscountCalls(SandboxStore):
    """Stripe's rules where Moneta relies on them: coupon ids unique, one active code alike."""

    def create_coupon(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        def make(db: sqlite3.Connection) -> dict[str, Any]:
            if load(db, "coupon", params["id"]) is not None:
                raise StripeRequestError(
                    f"Coupon already exists: {params['id']}", code="resource_already_exists"
                )
            return {"object": "coupon", "valid": True, "times_redeemed": 0, **_stamped(params)}

        return self._once("coupon", idempotency_key, params, make)

    def retrieve_coupon(self, coupon_id: str) -> dict[str, Any]:
        coupon = self.get("coupon", coupon_id)
        if coupon is None:
            raise StripeNotFound(f"No such coupon: '{coupon_id}'")
        return coupon

    def create_promotion_code(
        self, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        def make(db: sqlite3.Connection) -> dict[str, Any]:
            coupon_id = params["promotion"]["coupon"]
            if load(db, "coupon", coupon_id) is None:
                raise StripeRequestError(f"No such coupon: '{coupon_id}'", code="resource_missing")
            if params.get("active", True) and _active_code_exists(db, params["code"]):
                raise StripeRequestError(
                    "An active promotion code with `code` already exists.",
                    code="resource_already_exists",
                )
            body = {"object": "promotion_code", "active": True, "times_redeemed": 0}
            return {**body, **_stamped(params, prefix="promo_")}

        return self._once("promotion_code", idempotency_key, params, make)

    def deactivate_promotion_code(
        self, promotion_code_id: str, *, idempotency_key: str
    ) -> dict[str, Any]:
        def make(db: sqlite3.Connection) -> dict[str, Any]:
            code = load(db, "promotion_code", promotion_code_id)
            if code is None:
                raise StripeNotFound(f"No such promotion code: '{promotion_code_id}'")
            return {**code, "active": False}

        request = {"id": promotion_code_id, "active": False}
        return self._once("promotion_code", idempotency_key, request, make)

    def create_tax_rate(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        def make(db: sqlite3.Connection) -> dict[str, Any]:
            return {"object": "tax_rate", "active": True, **_stamped(params, prefix="txr_")}

        return self._once("tax_rate", idempotency_key, params, make)

    def _once(
        self,
        resource: str,
        idempotency_key: str,
        request: dict[str, Any],
        make: Callable[[sqlite3.Connection], dict[str, Any]],
    ) -> dict[str, Any]:
        """Replay the first outcome of `idempotency_key`, else make, store and remember one."""
        text = json.dumps(request, sort_keys=True)
        with self._write() as db:
            earlier = earlier_outcome(db, idempotency_key, text)
            if earlier is not None:
                return earlier[resource]  # type: ignore[no-any-return]
            obj = make(db)
            store(db, resource, obj)
            db.execute(
                "INSERT INTO idempotency_keys (key, request, outcome) VALUES (?, ?, ?)",
                (idempotency_key, text, json.dumps({resource: obj})),
            )
        return obj


def _stamped(params: dict[str, Any], prefix: str | None = None) -> dict[str, Any]:
    """`params` as the stored object: an id (kept if given), `created`, test mode."""
    minted = {"id": f"{prefix}{secrets.token_hex(12)}"} if prefix else {}
    return {**minted, **params, "created": int(utcnow().timestamp()), "livemode": False}


def _active_code_exists(db: sqlite3.Connection, code: str) -> bool:
    rows = db.execute("SELECT body FROM objects WHERE resource = 'promotion_code'").fetchall()
    bodies = (json.loads(row[0]) for row in rows)
    return any(b["active"] and b["code"].upper() == code.upper() for b in bodies)
