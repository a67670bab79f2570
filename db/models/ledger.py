"""External-call ledger (idempotency of Stripe/e-mail writes) and the append-only audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, JsonDoc, UTCDateTime


class ExternalCallStatus:
    CLAIMED = "claimed"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ExternalCall(Base):
    """A write to the outside world, claimed by its idempotency key before it is made."""

    __tablename__ = "external_calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    service: Mapped[str] = mapped_column(String(32))  # stripe | email
    operation: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ExternalCallStatus.CLAIMED)
    request: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    response: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who did what, when, from where. Rows are never updated or deleted (DB triggers)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(255), index=True)
    origin: Mapped[str | None] = mapped_column(String(255))  # cli, api:1.2.3.4, worker:host
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    detail: Mapped[str | None] = mapped_column(Text)
