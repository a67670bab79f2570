"""The catalog calls in the offline sandbox: products, prices and customers, replayed by key."""

from __future__ import annotations

import json
import secrets
import sqlite3
from typing import Any

from core.clock import utcnow
from tools.stripe.gateway import StripeNotFound, StripeRequestError
from tools.stripe.sandbox_store import SandboxStore, earlier_outcome, load, store

# What Stripe lets change on an existing price (amounts and terms are immutable).
PRICE_MUTABLE_FIELDS = frozenset({"active", "nickname", "metadata", "lookup_key"})


class SandboxCatalogCalls(SandboxStore):
    """Products, prices (Prices API) and customers in the sandbox file, replayed by key."""

    def create_product(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self._create("product", "prod", params, idempotency_key)

    def update_product(
        self, product_id: str, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        return self._update("product", product_id, params, idempotency_key)

    def create_price(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self._create("price", "price", params, idempotency_key)

    def update_price(
        self, price_id: str, *, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        unknown = sorted(set(params) - PRICE_MUTABLE_FIELDS)
        if unknown:
            raise StripeRequestError(
                f"Received unknown parameter: {unknown[0]} (a price's terms are immutable)",
                code="parameter_unknown",
            )
        return self._update("price", price_id, params, idempotency_key)

    def create_customer(self, *, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self._create("customer", "cus", params, idempotency_key)

    def _create(
        self, resource: str, prefix: str, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        request = json.dumps({"create": resource, **params}, sort_keys=True)
        with self._write() as db:
            earlier = earlier_outcome(db, idempotency_key, request)
            if earlier is not None:
                return earlier[resource]  # type: ignore[no-any-return]
            if resource == "price" and load(db, "product", params.get("product", "")) is None:
                raise StripeNotFound(f"No such product: '{params.get('product')}'")
            obj = {
                "id": f"{prefix}_{secrets.token_hex(12)}",
                "object": resource,
                "active": True,
                "metadata": {},
                "created": int(utcnow().timestamp()),
                **params,
            }
            store(db, resource, obj)
            _remember(db, idempotency_key, request, {resource: obj})
        return obj

    def _update(
        self, resource: str, object_id: str, params: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        request = json.dumps({"update": resource, "id": object_id, **params}, sort_keys=True)
        with self._write() as db:
            earlier = earlier_outcome(db, idempotency_key, request)
            if earlier is not None:
                return earlier[resource]  # type: ignore[no-any-return]
            obj = load(db, resource, object_id)
            if obj is None:
                raise StripeNotFound(f"No such {resource}: '{object_id}'")
            metadata = {**obj.get("metadata", {}), **params.get("metadata", {})}
            obj.update({**params, "metadata": metadata})
            store(db, resource, obj)
            _remember(db, idempotency_key, request, {resource: obj})
        return obj


def _remember(db: sqlite3.Connection, key: str, request: str, outcome: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO idempotency_keys (key, request, outcome) VALUES (?, ?, ?)",
        (key, request, json.dumps(outcome)),
    )


def line_item_terms(db: sqlite3.Connection, item: dict[str, Any]) -> tuple[int, str]:
    """(unit amount, currency) of a sandbox Checkout line item: inline `price_data` or a price."""
    if "price_data" in item:
        return int(item["price_data"]["unit_amount"]), item["price_data"]["currency"]
    price = load(db, "price", item["price"])
    if price is None:
        raise StripeNotFound(f"No such price: '{item['price']}'")
    return int(price.get("unit_amount") or 0), price["currency"]
