"""`moneta discounts sync`: the operator's coupons and promotion codes as Stripe objects.

A coupon's Stripe id is its key plus a content hash, so it is looked up before it is made
(a record lost after a crash finds the coupon again). A changed promotion code is a new one:
the old one is switched off first, since Stripe keeps one active code per spelling.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agents.config_sync import Synced, SyncReport, content_id, sync_object
from agents.discounts.config import Coupon, Discounts, PromotionCode
from core.errors import NotFound
from db.models.discounts import RedemptionScope
from db.repositories.catalog import stripe_product_id_of
from db.repositories.discounts import active_synced_objects
from db.session import Database
from tools.stripe.gateway import StripeGateway, StripeNotFound


def sync_discounts(database: Database, gateway: StripeGateway, discounts: Discounts) -> SyncReport:
    """Create what Stripe lacks; a second run with the same file creates nothing."""
    report = SyncReport()
    coupon_ids: dict[str, str] = {}
    for coupon in discounts.coupons:
        synced = _sync_coupon(database, gateway, coupon)
        coupon_ids[coupon.key] = synced.stripe_id
        report.items.append(synced)
    for promo in discounts.promotion_codes:
        coupon = discounts.coupon(promo.coupon)
        params = promotion_code_params(promo, coupon, coupon_ids[coupon.key])
        report.items.append(_sync_promotion_code(database, gateway, promo, params))
    return report


def coupon_params(coupon: Coupon, product_ids: dict[str, str]) -> dict[str, Any]:
    """Stripe's coupon parameters (without the id); optional terms only when set."""
    params: dict[str, Any] = {
        "duration": coupon.duration,
        "metadata": {"moneta_coupon": coupon.key},
    }
    if coupon.percent_off is not None:
        params["percent_off"] = format(coupon.percent_off, "f")
    else:
        params.update(amount_off=coupon.amount_off, currency=coupon.currency)
    optional = {
        "name": coupon.name or None,
        "duration_in_months": coupon.duration_in_months,
        "max_redemptions": coupon.max_redemptions,
        "redeem_by": int(coupon.redeem_by.timestamp()) if coupon.redeem_by else None,
        "applies_to": (
            {"products": [product_ids[k] for k in coupon.applies_to]} if coupon.applies_to else None
        ),
    }
    params.update({name: value for name, value in optional.items() if value is not None})
    return params


def promotion_code_params(
    promo: PromotionCode, coupon: Coupon, stripe_coupon_id: str
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "promotion": {"type": "coupon", "coupon": stripe_coupon_id},
        "code": promo.code,
        "active": promo.active,
        "metadata": {"moneta_promotion_code": promo.normalized},
    }
    if promo.max_redemptions is not None:
        params["max_redemptions"] = promo.max_redemptions
    if promo.expires_at is not None:
        params["expires_at"] = int(promo.expires_at.timestamp())
    if coupon.first_time_only:
        params["restrictions"] = {"first_time_transaction": True}
    return params


def _sync_coupon(database: Database, gateway: StripeGateway, coupon: Coupon) -> Synced:
    with database.transaction() as session:
        product_ids = {key: _stripe_product(session, key) for key in coupon.applies_to}
    params = coupon_params(coupon, product_ids)

    def create(params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        coupon_id = content_id(coupon.key, params)
        try:
            return gateway.retrieve_coupon(coupon_id)
        except StripeNotFound:
            return gateway.create_coupon(
                params={"id": coupon_id, **params}, idempotency_key=idempotency_key
            )

    return sync_object(database, RedemptionScope.COUPON, coupon.key, params, create)


def _sync_promotion_code(
    database: Database, gateway: StripeGateway, promo: PromotionCode, params: dict[str, Any]
) -> Synced:
    kind = RedemptionScope.PROMOTION_CODE
    with database.transaction() as session:
        earlier = [row.stripe_id for row in active_synced_objects(session, kind, promo.normalized)]

    def create(params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        for stripe_id in earlier:
            gateway.deactivate_promotion_code(
                stripe_id, idempotency_key=f"{idempotency_key}:replaces:{stripe_id}"
            )
        return gateway.create_promotion_code(params=params, idempotency_key=idempotency_key)

    return sync_object(database, kind, promo.normalized, params, create)


def _stripe_product(session: Session, product_key: str) -> str:
    found = stripe_product_id_of(session, product_key)
    if found is None:
        raise NotFound(
            f"product {product_key!r} is not on Stripe: run `moneta catalog sync` first",
            code="product_not_synced",
        )
    return found
