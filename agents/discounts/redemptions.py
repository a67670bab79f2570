"""Record that a customer used a promotion code: once per code and customer, within limits."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from agents.discounts.config import Coupon, Discounts, PromotionCode
from db.models.discounts import RedemptionScope
from db.repositories.discounts import count_redemption, insert_redemption

Redeemed = Literal["redeemed", "already_redeemed", "exhausted", "unknown_code"]


def redemption_limits(
    promo: PromotionCode, coupon: Coupon
) -> tuple[tuple[str, str, int | None], ...]:
    """What a redemption counts against: the code's own limit and its coupon's (all codes)."""
    return (
        (RedemptionScope.PROMOTION_CODE, promo.normalized, promo.max_redemptions),
        (RedemptionScope.COUPON, coupon.key, coupon.max_redemptions),
    )


class _LimitReached(Exception):
    """Rolls the savepoint back: a redemption over a limit leaves nothing behind."""


def redeem_code(
    session: Session,
    discounts: Discounts,
    *,
    code: str,
    customer_id: int,
    source: str,
    at: datetime,
) -> Redeemed:
    """Count one use of `code` by `customer_id`, seen on `source` (a checkout or subscription).

    Idempotent: the same customer and code count once however often Stripe reports them.
    Atomic: the code's and its coupon's `max_redemptions` hold under concurrent redemptions.
    """
    promo = discounts.find_code(code)
    if promo is None:
        return "unknown_code"
    coupon = discounts.coupon(promo.coupon)
    try:
        with session.begin_nested():
            fresh = insert_redemption(
                session,
                code=promo.normalized,
                coupon_key=coupon.key,
                customer_id=customer_id,
                source=source,
                at=at,
            )
            if not fresh:
                return "already_redeemed"
            for scope, key, limit in redemption_limits(promo, coupon):
                if not count_redemption(session, scope, key, limit):
                    raise _LimitReached
    except _LimitReached:
        return "exhausted"
    return "redeemed"
