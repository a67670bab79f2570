"""Account credits on customers' Stripe balances, mirrored when an approved credit executes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, UTCDateTime


class CustomerCredit(Base):
    """One credit toward the customer's next invoices: Stripe's balance transaction, ours."""

    __tablename__ = "customer_credits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    stripe_balance_transaction_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # credit granted, positive minor units
    currency: Mapped[str] = mapped_column(String(3))
    # Stripe's customer balance after it, as Stripe signs it (negative = credit left).
    ending_balance: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
