"""Plan a catalog sync: compare the catalog with what was synced before, list the Stripe writes.

Pure: the caller reads the synced state from the database and executes the steps. Each step
that calls Stripe carries an idempotency key derived from the catalog key and content hash
(for updates also the time of the previous write, so a later change is a new request).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from agents.catalog.models import Catalog, Price, Product
from agents.catalog.stripe_params import (
    NotOnStripe,
    fingerprint,
    price_active,
    price_params,
    price_terms_fingerprint,
    product_params,
)

Outcome = Literal["created", "updated", "archived", "unchanged", "skipped", "failed"]
Call = Literal["create_product", "update_product", "create_price", "update_price"]


@dataclass(frozen=True)
class SyncedProduct:
    key: str
    stripe_product_id: str
    fingerprint: str | None
    active: bool
    synced_at: datetime | None


@dataclass(frozen=True)
class SyncedPrice:
    row_id: int
    key: str
    product_key: str
    stripe_price_id: str
    fingerprint: str | None
    active: bool
    synced_at: datetime | None


@dataclass(frozen=True)
class Step:
    """One line of the sync report; `call` is None when Stripe needs no write."""

    kind: Literal["product", "price"]
    key: str
    product_key: str
    outcome: Outcome
    call: Call | None = None
    params: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str = ""
    stripe_id: str | None = None  # the object an update targets
    fingerprint: str = ""
    row_id: int | None = None  # the `prices` row an update targets
    price: Price | None = None  # the catalog price a creation makes
    note: str = ""


def plan_sync(
    catalog: Catalog, products: list[SyncedProduct], prices: list[SyncedPrice]
) -> list[Step]:
    """Every step, products first then their prices, then what left the catalog."""
    synced_products = {p.key: p for p in products}
    rows_by_key: dict[str, list[SyncedPrice]] = {}
    for row in prices:
        rows_by_key.setdefault(row.key, []).append(row)
    steps: list[Step] = []
    for product in catalog.products:
        steps.append(_product_step(product, synced_products.get(product.key)))
        for price in product.prices:
            steps += _price_steps(product, price, rows_by_key.pop(price.key, []))
    steps += [
        _archive_price(row, "no longer in the catalog")
        for rows in rows_by_key.values()
        for row in rows
        if row.active
    ]
    known = {product.key for product in catalog.products}
    steps += [_archive_product(p) for p in products if p.key not in known and p.active]
    return steps


def _product_step(product: Product, synced: SyncedProduct | None) -> Step:
    params = product_params(product)
    digest = fingerprint(params)
    base = Step("product", product.key, product.key, "unchanged", fingerprint=digest)
    if synced is None:
        if product.lifecycle == "draft":
            return replace(base, outcome="skipped", note="draft: not on Stripe yet")
        return replace(
            base,
            outcome="created",
            call="create_product",
            params=params,
            idempotency_key=f"catalog:product:{product.key}:{digest}",
        )
    if synced.fingerprint == digest:
        return replace(base, stripe_id=synced.stripe_product_id)
    return replace(
        base,
        outcome="updated" if params["active"] else "archived",
        call="update_product",
        params=params,
        stripe_id=synced.stripe_product_id,
        idempotency_key=_update_key("product", product.key, digest, synced.synced_at),
    )


def _price_steps(product: Product, price: Price, rows: list[SyncedPrice]) -> list[Step]:
    try:
        params = price_params(product.key, price)
    except NotOnStripe as reason:
        steps = [_archive_price(row, str(reason)) for row in rows if row.active]
        return steps or [Step("price", price.key, product.key, "skipped", note=str(reason))]
    digest = price_terms_fingerprint(product.key, price)
    active = price_active(product, price)
    current = next((row for row in rows if row.fingerprint == digest), None)
    steps = [
        _archive_price(row, "terms changed") for row in rows if row is not current and row.active
    ]
    if current is None:
        if not active:
            note = f"{price.lifecycle}: not offered, not on Stripe"
            return [*steps, Step("price", price.key, product.key, "skipped", note=note)]
        created = Step(
            "price",
            price.key,
            product.key,
            "created",
            call="create_price",
            params=params,
            idempotency_key=f"catalog:price:{price.key}:{digest}",
            fingerprint=digest,
            price=price,
        )
        return [*steps, created]
    if current.active == active:
        unchanged = Step(
            "price", price.key, product.key, "unchanged", stripe_id=current.stripe_price_id
        )
        return [*steps, unchanged]
    toggled = Step(
        "price",
        price.key,
        product.key,
        "updated" if active else "archived",
        call="update_price",
        params={"active": active},
        idempotency_key=_update_key("price", price.key, f"{digest}:{active}", current.synced_at),
        stripe_id=current.stripe_price_id,
        fingerprint=digest,
        row_id=current.row_id,
        note="" if active else f"{price.lifecycle} in the catalog",
    )
    return [*steps, toggled]


def _archive_price(row: SyncedPrice, note: str) -> Step:
    return Step(
        "price",
        row.key,
        row.product_key,
        "archived",
        call="update_price",
        params={"active": False},
        idempotency_key=_update_key(
            "price", row.key, f"{row.stripe_price_id}:False", row.synced_at
        ),
        stripe_id=row.stripe_price_id,
        fingerprint=row.fingerprint or "",
        row_id=row.row_id,
        note=note,
    )


def _archive_product(synced: SyncedProduct) -> Step:
    return Step(
        "product",
        synced.key,
        synced.key,
        "archived",
        call="update_product",
        params={"active": False},
        idempotency_key=_update_key("product", synced.key, "removed", synced.synced_at),
        stripe_id=synced.stripe_product_id,
        note="no longer in the catalog",
    )


def _update_key(kind: str, key: str, target: str, previous_write: datetime | None) -> str:
    """Stripe replays a key for a day: the previous write's time keeps a re-change distinct."""
    after = int(previous_write.timestamp()) if previous_write else 0
    return f"catalog:{kind}:{key}:{fingerprint({'to': target})[:16]}:after:{after}"
