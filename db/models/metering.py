"""Usage events, the alerts and overage charges derived from them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, JsonDoc, UTCDateTime

# Quantities are decimals (storage in GB, hours); six places is finer than any meter needs.
Quantity = Numeric(24, 6)


class UsageEvent(Base):
    """One reported use of a metric; the client's idempotency key makes a resend a no-op."""

    __tablename__ = "usage_events"
    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key"),
        Index("ix_usage_events_customer_metric_at", "customer_id", "metric", "occurred_at"),
        Index("ix_usage_events_metric_at", "metric", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    metric: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    properties: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageAlert(Base):
    """A threshold of a limit crossed; unique per customer, metric, period and threshold."""

    __tablename__ = "usage_alerts"
    __table_args__ = (UniqueConstraint("customer_id", "metric", "period_start", "threshold"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    metric: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    threshold: Mapped[int] = mapped_column(Integer)  # percent of the limit: 80, 90, 100
    used: Mapped[Decimal] = mapped_column(Quantity)
    limit_value: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OverageStatus:
    PENDING = "pending"
    BILLED = "billed"
    SKIPPED = "skipped"  # nothing to bill it to (no Stripe customer)
    FAILED = "failed"  # Stripe refused the invoice item: an operator looks at it


class UsageOverage(Base):
    """Usage beyond the limit in a closed period, billed as one Stripe invoice item."""

    __tablename__ = "usage_overages"
    __table_args__ = (UniqueConstraint("customer_id", "metric", "period_start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    metric: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    used: Mapped[Decimal] = mapped_column(Quantity)
    limit_value: Mapped[int] = mapped_column(BigInteger)
    overage: Mapped[Decimal] = mapped_column(Quantity)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=OverageStatus.PENDING)
    stripe_invoice_item_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
