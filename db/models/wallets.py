"""AI-token wallets: append-only grants and debits (the truth) and a per-customer balance row.

`wallet_accounts.balance` is a projection of the ledger kept in the same transaction as each
posting: its conditional update is the guard that makes a deduction never overspend.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, UTCDateTime


class WalletAccount(Base):
    __tablename__ = "wallet_accounts"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # Earliest expiry among grants that still hold tokens; deductions stop at it until swept.
    next_expiry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WalletGrant(Base):
    """Tokens put into a wallet: a paid purchase or an approved operator grant."""

    __tablename__ = "wallet_grants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    tokens: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))  # purchase | operator
    source_ref: Mapped[str] = mapped_column(String(255), unique=True)  # checkout:cs_..., approval:7
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    amount: Mapped[int | None] = mapped_column(BigInteger)  # money paid, minor units
    currency: Mapped[str | None] = mapped_column(String(3))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WalletDebit(Base):
    """Tokens taken out: consumed by a feature, expired, revoked after a refund, or clawed back."""

    __tablename__ = "wallet_debits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    tokens: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # consume | expire | revoke | clawback
    feature: Mapped[str | None] = mapped_column(String(64))
    # Expire and revoke postings name the grant they close; consumption draws FIFO by expiry.
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("wallet_grants.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WalletRefund(Base):
    """One refunded level of a token purchase: what was revoked and what is owed back.

    Keyed by the charge's cumulative refunded amount, so each level is taken back once however
    often Stripe reports it; the part already spent goes to an operator as a clawback approval.
    """

    __tablename__ = "wallet_refunds"
    __table_args__ = (UniqueConstraint("grant_id", "refunded_amount"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("wallet_grants.id"), index=True)
    refunded_amount: Mapped[int] = mapped_column(BigInteger)
    revoked_tokens: Mapped[int] = mapped_column(BigInteger)
    owed_tokens: Mapped[int] = mapped_column(BigInteger)
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WalletPendingRefund(Base):
    """A refunded level of a charge whose token grant is not (yet) there: kept for the credit.

    Webhooks arrive in any order; when `wallet.credit` posts the grant of this payment intent
    it applies these levels, so a refund handled first is never lost. A refunded charge that
    bought no tokens leaves its row here unmatched.
    """

    __tablename__ = "wallet_pending_refunds"
    __table_args__ = (UniqueConstraint("payment_intent_id", "refunded_amount"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_intent_id: Mapped[str] = mapped_column(String(255))  # Stripe's pi_...
    charge_id: Mapped[str] = mapped_column(String(255))  # Stripe's ch_...
    amount: Mapped[int] = mapped_column(BigInteger)  # the charge's amount, minor units
    refunded_amount: Mapped[int] = mapped_column(BigInteger)  # cumulative, as Stripe reports it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
