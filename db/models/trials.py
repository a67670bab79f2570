"""One free trial per customer: the row exists once a trial was granted, wherever it started."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, UTCDateTime


class CustomerTrial(Base):
    __tablename__ = "customer_trials"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # checkout | stripe
    # The checkout's idempotency key, or the Stripe subscription id for a trial seen on Stripe.
    reference: Mapped[str] = mapped_column(String(255))
    price_key: Mapped[str | None] = mapped_column(String(100))
    trial_days: Mapped[int | None] = mapped_column(Integer)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
