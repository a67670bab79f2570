"""Whether a promotion code may be used now, by this customer, on this price; and why not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from agents.catalog.loader import load_catalog
from agents.discounts.config import Coupon, PromotionCode, expired, normalize_code
from agents.discounts.loader import discounts_of
from agents.discounts.redemptions import redemption_limits
from agents.pricing.discounts import AmountOff, Discount
from core.settings import Settings, get_settings
from db.models.discounts import RedemptionScope
from db.repositories.discounts import (
    active_synced_objects,
    has_paid_before,
    has_redeemed,
    times_redeemed,
)

REASONS = (
    "unknown_code",
    "inactive",
    "expired",
    "exhausted",
    "not_for_plan",
    "currency_mismatch",
    "already_redeemed",
    "first_time_only",
)


@dataclass(frozen=True)
class CodeCheck:
    """The verdict on a code: `reason` (one of REASONS) is None exactly when `valid`."""

    code: str  # normalized (upper case)
    valid: bool
    reason: str | None
    discount: Discount | None  # the coupon's terms when valid
    coupon: Coupon | None
    stripe_promotion_code_id: str | None = None
    stripe_coupon_id: str | None = None
    # False for an anonymous check: first-time and already-redeemed rules were not applied.
    customer_checked: bool = False


def validate_code(
    session: Session,
    code: str,
    *,
    customer_id: int | None,
    price_key: str | None,
    at: datetime,
    settings: Settings | None = None,
) -> CodeCheck:
    """Check `code` for `customer_id` (None: anonymous) buying `price_key` (None: any) at `at`.

    Reads the discounts file and catalog of `settings` (default: the process settings).
    Raises NotFound (`unknown_price`) for a price not in the catalog.
    """
    settings = settings or get_settings()
    discounts = discounts_of(settings)
    promo = discounts.find_code(code)
    if promo is None:
        return CodeCheck(normalize_code(code), False, "unknown_code", None, None)
    coupon = discounts.coupon(promo.coupon)
    reason = _refusal(session, settings, promo, coupon, price_key, at) or _customer_refusal(
        session, promo, coupon, customer_id
    )
    return CodeCheck(
        code=promo.normalized,
        valid=reason is None,
        reason=reason,
        discount=coupon.discount() if reason is None else None,
        coupon=coupon,
        stripe_promotion_code_id=_stripe_id(
            session, RedemptionScope.PROMOTION_CODE, promo.normalized
        ),
        stripe_coupon_id=_stripe_id(session, RedemptionScope.COUPON, coupon.key),
        customer_checked=customer_id is not None,
    )


def _refusal(
    session: Session,
    settings: Settings,
    promo: PromotionCode,
    coupon: Coupon,
    price_key: str | None,
    at: datetime,
) -> str | None:
    """The first reason anyone would be refused, in the order a customer can act on it."""
    if not promo.active:
        return "inactive"
    if expired(promo.expires_at, at) or expired(coupon.redeem_by, at):
        return "expired"
    if _exhausted(session, promo, coupon):
        return "exhausted"
    if price_key is None:
        return None
    catalog = load_catalog(settings.catalog_file)
    price = catalog.price(price_key)
    if coupon.applies_to and catalog.product_of(price_key).key not in coupon.applies_to:
        return "not_for_plan"
    discount = coupon.discount()
    if isinstance(discount, AmountOff) and discount.amount.currency != price.currency:
        return "currency_mismatch"
    return None


def _customer_refusal(
    session: Session, promo: PromotionCode, coupon: Coupon, customer_id: int | None
) -> str | None:
    if customer_id is None:
        return None
    if has_redeemed(session, promo.normalized, customer_id):
        return "already_redeemed"
    if coupon.first_time_only and has_paid_before(session, customer_id):
        return "first_time_only"
    return None


def _exhausted(session: Session, promo: PromotionCode, coupon: Coupon) -> bool:
    return any(
        limit is not None and times_redeemed(session, scope, key) >= limit
        for scope, key, limit in redemption_limits(promo, coupon)
    )


def _stripe_id(session: Session, kind: str, key: str) -> str | None:
    synced = active_synced_objects(session, kind, key)
    return synced[-1].stripe_id if synced else None
