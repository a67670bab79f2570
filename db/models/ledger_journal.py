"""The double-entry journal: entries of balanced postings, appended and never changed.

Amounts are signed integer minor units: a debit is positive, a credit negative, so every
entry's postings sum to zero per currency and so does the whole journal. UPDATE and DELETE
are refused by database triggers (migration 0006); a correction is a reversing entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, JsonDoc, UTCDateTime


class JournalEntry(Base):
    """One money event (payment, refund, usage, payout, commission, ...), posted once per key."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    # The event's own identity (`payment:12`, `refund:re_123`): a second post is a no-op.
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    # Set on a reversing entry; unique, so an entry is reversed at most once.
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id"), unique=True
    )
    memo: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JournalPosting(Base):
    """One leg of an entry: `amount` (debit +, credit -) on an account of one party."""

    __tablename__ = "journal_postings"
    __table_args__ = (Index("ix_journal_postings_account_party", "account", "party", "currency"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account: Mapped[str] = mapped_column(String(32))
    # Sub-account: `owner:alice`, `customer:12`; "" for the platform's own accounts.
    party: Mapped[str] = mapped_column(String(160), default="")
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
