"""Invoice lines mirrored from Stripe, and the dunning case of each unpaid invoice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, UTCDateTime


class InvoiceLine(Base):
    """One line of a Stripe invoice; replaced whenever a newer invoice snapshot is applied."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stripe_line_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(255), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order on the invoice
    description: Mapped[str | None] = mapped_column(String(1024))
    # What the line bills before discounts and exclusive taxes, minor units.
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(BigInteger, default=1)
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proration: Mapped[bool] = mapped_column(Boolean, default=False)
    stripe_price_id: Mapped[str | None] = mapped_column(String(255))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    discount_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # exclusive and inclusive
    stripe_watermark: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DunningStatus:
    OPEN = "open"
    RECOVERED = "recovered"  # the invoice was paid
    VOIDED = "voided"  # the invoice was voided or marked uncollectible
    SUBSCRIPTION_CANCELED = "subscription_canceled"  # canceled elsewhere (customer, operator)
    CANCELED = "canceled"  # dunning reached its cancel step and canceled the subscription


class DunningCase(Base):
    """The recovery of one unpaid invoice: the next step of the schedule and when it is due.

    Restart-safe: the job advances cases from these rows alone; `step` counts the steps done.
    """

    __tablename__ = "dunning_cases"
    __table_args__ = (Index("ix_dunning_cases_status_due", "status", "next_due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), index=True)
    amount_due: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    hosted_invoice_url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(32), default=DunningStatus.OPEN)
    step: Mapped[int] = mapped_column(Integer, default=0)  # steps of the schedule done so far
    next_action: Mapped[str | None] = mapped_column(String(32))
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hard_decline: Mapped[bool] = mapped_column(Boolean, default=False)
    decline_code: Mapped[str | None] = mapped_column(String(64))
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the first failed payment
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recovered_amount: Mapped[int | None] = mapped_column(BigInteger)
    days_to_recover: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
