"""Payees (owners, affiliates, agencies), monetized processes, their usage, and payouts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, JsonDoc, UTCDateTime


class Payee(Base):
    """Someone Moneta owes money to; `party` (`owner:alice`) names their ledger sub-accounts."""

    __tablename__ = "payees"
    __table_args__ = (UniqueConstraint("kind", "ref"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # owner | affiliate | agency
    ref: Mapped[str] = mapped_column(String(128))  # the id the payee is known by outside
    party: Mapped[str] = mapped_column(String(160), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|on_hold|retired
    # Platform fee on revenue accrued to this payee, basis points; None: the default.
    fee_bps: Mapped[int | None] = mapped_column(Integer)
    stripe_account_id: Mapped[str | None] = mapped_column(String(255))  # Connect account
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MonetizedProcess(Base):
    """A product an owner sells through Moneta, with its revenue model and prices."""

    __tablename__ = "monetized_processes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("payees.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    product_type: Mapped[str] = mapped_column(String(16))  # service|content|license|subscription
    revenue_model: Mapped[str] = mapped_column(String(16))  # fixed|usage_based|tiered|subscription
    # Prices in minor units: {"unit_amount": 10} or {"tiers": [{"up_to": 100, "unit_amount": 5}]}.
    pricing: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    usage_count: Mapped[int] = mapped_column(BigInteger, default=0)
    usage_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProcessUsage(Base):
    """One recorded use of a process, unique per the caller's idempotency key."""

    __tablename__ = "process_usage"
    __table_args__ = (UniqueConstraint("process_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("monetized_processes.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    user_ref: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(BigInteger)
    gross: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Payout(Base):
    """Money paid out of a payee's payable balance, behind an approval.

    `open_key` (`<party>:<currency>`) is set while the payout is in flight and cleared when it
    ends: its unique constraint lets only one payout per payee and currency be open at a time.
    """

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payee_id: Mapped[int] = mapped_column(ForeignKey("payees.id"), index=True)
    party: Mapped[str] = mapped_column(String(160), index=True)
    account: Mapped[str] = mapped_column(String(32))
    process_id: Mapped[int | None] = mapped_column(ForeignKey("monetized_processes.id"))
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(BigInteger)  # payable when requested
    reserve: Mapped[int] = mapped_column(BigInteger)  # held back for refunds in the window
    amount: Mapped[int] = mapped_column(BigInteger)  # taken from the payable
    fee: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)  # sent to the payee
    status: Mapped[str] = mapped_column(String(16), default="pending_approval", index=True)
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    method: Mapped[str | None] = mapped_column(String(16))  # transfer | manual
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id"), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    transfer_id: Mapped[str | None] = mapped_column(String(255))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    requested_by: Mapped[str] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
