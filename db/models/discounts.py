"""Redemptions of promotion codes, their counts, and the Stripe objects synced from config.

Coupons and promotion codes themselves live in the operator's YAML file; the database holds
what happens to them. A redemption is unique per code and customer; counts are one row per
coupon or code, incremented with a guarded UPDATE so a limit holds under concurrency.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, UTCDateTime


class RedemptionScope:
    COUPON = "coupon"
    PROMOTION_CODE = "promotion_code"


class DiscountRedemption(Base):
    """A customer used a promotion code (seen on a completed checkout or a subscription)."""

    __tablename__ = "discount_redemptions"
    __table_args__ = (UniqueConstraint("promotion_code", "customer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    promotion_code: Mapped[str] = mapped_column(String(64))  # upper-cased: codes ignore case
    coupon_key: Mapped[str] = mapped_column(String(100), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # Where Stripe showed it: a checkout session or subscription id.
    source: Mapped[str] = mapped_column(String(255))
    redeemed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DiscountRedemptionCount(Base):
    """How many times a coupon (all its codes) or one promotion code was redeemed."""

    __tablename__ = "discount_redemption_counts"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # RedemptionScope
    key: Mapped[str] = mapped_column(String(100))
    times_redeemed: Mapped[int] = mapped_column(Integer, default=0)


class StripeConfigObject(Base):
    """A coupon, promotion code or tax rate created on Stripe from config, by content hash.

    Stripe keeps these immutable, so changed content is a new object and a new row (content
    changed back to an earlier version is a new row too); only the newest one is `active`.
    """

    __tablename__ = "stripe_config_objects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # coupon | promotion_code | tax_rate
    key: Mapped[str] = mapped_column(String(100), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    stripe_id: Mapped[str] = mapped_column(String(255), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
