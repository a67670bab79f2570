"""Changes a customer asked for on a subscription: what, when it takes effect, and its outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, JsonDoc, UTCDateTime


class ChangeStatus:
    """requested -> applied | failed | awaiting_approval (a refund waits) | superseded."""

    REQUESTED = "requested"
    APPLIED = "applied"
    FAILED = "failed"
    AWAITING_APPROVAL = "awaiting_approval"
    SUPERSEDED = "superseded"


class SubscriptionChange(Base):
    """One requested change; `idempotency_key` is derived from the request, so a retry is free."""

    __tablename__ = "subscription_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(255))
    # upgrade | downgrade | cancel_at_period_end | cancel_now | resume | pause | unpause
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), index=True)
    from_price_key: Mapped[str | None] = mapped_column(String(100))
    to_price_key: Mapped[str | None] = mapped_column(String(100))
    from_quantity: Mapped[int] = mapped_column(Integer)
    to_quantity: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The preview's instant (unix seconds), sent to Stripe as proration_date.
    proration_date: Mapped[int] = mapped_column(BigInteger)
    preview: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    refund_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id"))
    failure_reason: Mapped[str | None] = mapped_column(String(1000))
    requested_by: Mapped[str] = mapped_column(String(255))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
