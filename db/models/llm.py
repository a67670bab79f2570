"""Language-model bookkeeping: every model call with its tokens and cost, and daily narratives."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, JsonDoc, UTCDateTime


class LlmCall(Base):
    """One request to the model: what for, what it cost, how it ended (ok, error, rejected)."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    feature: Mapped[str] = mapped_column(String(32), index=True)  # copilot, wording, narrative
    subject: Mapped[str | None] = mapped_column(String(255))  # thread, notification key, day
    model: Mapped[str] = mapped_column(String(100))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_micros: Mapped[int] = mapped_column(BigInteger, default=0)  # micro-dollars
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Narrative(Base):
    """The operators' report of one UTC day; `source` is the model's name or "template"."""

    __tablename__ = "narratives"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    text: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    source: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
