"""Queries of redemptions, their counts and the Stripe ids of synced coupons, codes, tax rates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from db.models import (
    DiscountRedemption,
    DiscountRedemptionCount,
    Invoice,
    Payment,
    StripeConfigObject,
)
from db.statements import affected_rows, insert_ignore


def times_redeemed(session: Session, scope: str, key: str) -> int:
    count = session.scalar(
        select(DiscountRedemptionCount.times_redeemed).where(
            DiscountRedemptionCount.scope == scope, DiscountRedemptionCount.key == key
        )
    )
    return count or 0


def has_redeemed(session: Session, code: str, customer_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    DiscountRedemption.promotion_code == code,
                    DiscountRedemption.customer_id == customer_id,
                )
            )
        )
    )


def has_paid_before(session: Session, customer_id: int) -> bool:
    """Stripe's "first-time transaction": any paid invoice or succeeded payment disqualifies
    (a $0 trial invoice does not)."""
    paid_invoice = exists().where(
        Invoice.customer_id == customer_id, Invoice.status == "paid", Invoice.amount_paid > 0
    )
    payment = exists().where(Payment.customer_id == customer_id, Payment.status == "succeeded")
    return bool(session.scalar(select(paid_invoice | payment)))


def insert_redemption(
    session: Session, *, code: str, coupon_key: str, customer_id: int, source: str, at: datetime
) -> bool:
    """Record that `customer_id` used `code`; False if they already had (nothing written)."""
    values = {
        "promotion_code": code,
        "coupon_key": coupon_key,
        "customer_id": customer_id,
        "source": source,
        "redeemed_at": at,
    }
    return insert_ignore(session, DiscountRedemption, values) is not None


def count_redemption(session: Session, scope: str, key: str, limit: int | None) -> bool:
    """Add one redemption unless `limit` is reached; False when it was (nothing counted).

    A guarded UPDATE: concurrent redemptions queue on the row lock and each re-reads the
    count, so no more than `limit` ever pass.
    """
    insert_ignore(
        session, DiscountRedemptionCount, {"scope": scope, "key": key, "times_redeemed": 0}
    )
    row = DiscountRedemptionCount
    guard = [row.scope == scope, row.key == key]
    if limit is not None:
        guard.append(row.times_redeemed < limit)
    result = session.execute(
        update(row).where(*guard).values(times_redeemed=row.times_redeemed + 1)
    )
    return affected_rows(result) == 1


def synced_object(
    session: Session, kind: str, key: str, content_hash: str
) -> StripeConfigObject | None:
    """The newest Stripe object made for this content of `key`."""
    return session.scalars(
        select(StripeConfigObject)
        .where(
            StripeConfigObject.kind == kind,
            StripeConfigObject.key == key,
            StripeConfigObject.content_hash == content_hash,
        )
        .order_by(StripeConfigObject.id.desc())
        .limit(1)
    ).first()


def active_synced_objects(session: Session, kind: str, key: str) -> list[StripeConfigObject]:
    return list(
        session.scalars(
            select(StripeConfigObject)
            .where(
                StripeConfigObject.kind == kind,
                StripeConfigObject.key == key,
                StripeConfigObject.active.is_(True),
            )
            .order_by(StripeConfigObject.id)
        )
    )


def key_for_stripe_id(session: Session, kind: str, stripe_id: str) -> str | None:
    return session.scalar(
        select(StripeConfigObject.key).where(
            StripeConfigObject.kind == kind, StripeConfigObject.stripe_id == stripe_id
        )
    )


def count_synced_objects(session: Session, kind: str, key: str) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                StripeConfigObject.kind == kind, StripeConfigObject.key == key
            )
        )
        or 0
    )


def record_synced_object(
    session: Session, *, kind: str, key: str, content_hash: str, stripe_id: str
) -> None:
    """The Stripe object now standing for `key`; earlier versions of it become inactive."""
    for older in active_synced_objects(session, kind, key):
        older.active = False
    session.add(
        StripeConfigObject(kind=kind, key=key, content_hash=content_hash, stripe_id=stripe_id)
    )
    session.flush()
