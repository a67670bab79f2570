"""Entitlements: one grant row per customer and feature."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, UTCDateTime


class EntitlementStatus:
    ACTIVE = "active"
    GRACE = "grace"
    REVOKED = "revoked"


class Entitlement(Base):
    __tablename__ = "entitlements"
    __table_args__ = (UniqueConstraint("customer_id", "feature"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    feature: Mapped[str] = mapped_column(String(100))
    limit_value: Mapped[int | None] = mapped_column(BigInteger)  # None: unlimited / on-off
    plan: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=EntitlementStatus.ACTIVE)
    reason: Mapped[str | None] = mapped_column(String(100))
    grace_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
