"""Execute a catalog sync: plan against the synced rows, make the Stripe writes, record ids.

One transaction per product (its row and its prices), so a sync stopped half-way keeps what
it did, and a rerun carries on: Stripe replays a repeated idempotency key within a day, and
the rows make every later run skip what is already there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from agents.catalog.models import Catalog, Product
from agents.catalog.stripe_params import headline_amount
from agents.catalog.sync_plan import Step, SyncedPrice, SyncedProduct, plan_sync
from core.clock import utcnow
from db.repositories import catalog as rows
from db.session import Database
from tools.stripe.catalog_client import PlansCannotPrice
from tools.stripe.gateway import StripeGateway, StripeRequestError


@dataclass(frozen=True)
class SyncReport:
    steps: list[Step]

    @property
    def failed(self) -> list[Step]:
        return [step for step in self.steps if step.outcome == "failed"]


def read_synced(session: Session) -> tuple[list[SyncedProduct], list[SyncedPrice]]:
    """What earlier syncs recorded, as the planner's plain values."""
    products = [
        SyncedProduct(p.key, p.stripe_product_id or "", p.fingerprint, p.active, p.synced_at)
        for p in rows.synced_products(session)
    ]
    prices = [
        SyncedPrice(
            row_id=price.id,
            key=price.key or "",
            product_key=product_key,
            stripe_price_id=price.stripe_price_id or "",
            fingerprint=price.fingerprint,
            active=price.active,
            synced_at=price.synced_at,
        )
        for price, product_key in rows.synced_prices(session)
    ]
    return products, prices


def plan_catalog_sync(database: Database, catalog: Catalog) -> list[Step]:
    with database.transaction() as session:
        return plan_sync(catalog, *read_synced(session))


def sync_catalog(database: Database, gateway: StripeGateway, catalog: Catalog) -> SyncReport:
    """Make Stripe match the catalog; StripeGatewayError (retryable) stops the run as is."""
    steps = plan_catalog_sync(database, catalog)
    products = {product.key: product for product in catalog.products}
    done: list[Step] = []
    for product_key in dict.fromkeys(step.product_key for step in steps):
        with database.transaction() as session:
            for step in (s for s in steps if s.product_key == product_key):
                done.append(_apply(session, gateway, step, products.get(product_key)))
    return SyncReport(done)


def _apply(session: Session, gateway: StripeGateway, step: Step, product: Product | None) -> Step:
    if step.call is None:
        return step
    try:
        return _call(session, gateway, step, product)
    except PlansCannotPrice as error:
        return replace(step, outcome="skipped", note=str(error))
    except StripeRequestError as error:
        return replace(step, outcome="failed", note=str(error))


def _call(session: Session, gateway: StripeGateway, step: Step, product: Product | None) -> Step:
    now = utcnow()
    key = step.idempotency_key
    if step.call == "create_product" or step.call == "update_product":
        if step.call == "create_product":
            obj = gateway.create_product(params=step.params, idempotency_key=key)
        else:
            assert step.stripe_id is not None
            obj = gateway.update_product(step.stripe_id, params=step.params, idempotency_key=key)
        rows.save_product(
            session,
            step.key,
            name=product.name if product else str(obj.get("name") or step.key),
            stripe_product_id=obj["id"],
            active=bool(step.params["active"]),
            fingerprint=step.fingerprint or None,
            synced_at=now,
        )
        return replace(step, stripe_id=obj["id"])
    if step.call == "update_price":
        assert step.stripe_id is not None and step.row_id is not None
        gateway.update_price(step.stripe_id, params=step.params, idempotency_key=key)
        rows.set_price_active(session, step.row_id, active=step.params["active"], synced_at=now)
        return step
    return _create_price(session, gateway, step, now)


def _create_price(session: Session, gateway: StripeGateway, step: Step, now: datetime) -> Step:
    product_id = rows.product_row_id(session, step.product_key)
    stripe_product = rows.stripe_product_id_of(session, step.product_key)
    if product_id is None or stripe_product is None or step.price is None:
        return replace(step, outcome="skipped", note="its product is not on Stripe")
    params = {**step.params, "product": stripe_product}
    obj = gateway.create_price(params=params, idempotency_key=step.idempotency_key)
    rows.add_price(
        session,
        product_id,
        stripe_price_id=obj["id"],
        plan=step.product_key,
        unit_amount=headline_amount(step.price),
        currency=step.price.currency,
        interval=getattr(step.price, "interval", None),
        interval_count=1,
        active=True,
        key=step.key,
        fingerprint=step.fingerprint,
        synced_at=now,
    )
    return replace(step, stripe_id=obj["id"])
