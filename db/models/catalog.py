"""Products and prices, mapped to their Stripe ids.

`moneta catalog sync` owns these rows: one product row per catalog product, and one price row
per Stripe price ever created for a catalog price (Stripe prices are immutable, so a changed
amount is a new row and the old one is archived; existing subscriptions keep the old id).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, UTCDateTime


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    stripe_product_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Hash of what Stripe holds for the product (name, description, metadata, active).
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    # When Moneta last wrote the product to Stripe: part of the next update's idempotency key.
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Price(Base):
    __tablename__ = "prices"
    __table_args__ = (UniqueConstraint("key", "fingerprint"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    stripe_price_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    plan: Mapped[str] = mapped_column(String(100), index=True)
    # Whole minor units per unit (fixed, recurring, package); 0 where the amount is a fraction
    # of a minor unit or depends on tiers: the catalog file has those terms.
    unit_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[str | None] = mapped_column(String(16))
    interval_count: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The catalog price key and the hash of its immutable terms (amounts, currency, interval).
    key: Mapped[str | None] = mapped_column(String(100), index=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
