"""Access decisions, denials included, recorded for telemetry in batches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, UTCDateTime


class AccessDecisionRecord(Base):
    __tablename__ = "access_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # No foreign key: telemetry of a denied, unknown caller is still worth keeping.
    customer_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    assets: Mapped[str] = mapped_column(String(1000))  # comma-separated asset ids
    action: Mapped[str] = mapped_column(String(16))
    allowed: Mapped[bool] = mapped_column(Boolean)
    rule_id: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(100))
    cost: Mapped[int] = mapped_column(BigInteger, default=0)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
