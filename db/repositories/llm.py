"""Queries behind the language-model layer: call accounting and the daily narratives."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.models import LlmCall, Narrative


def record_call(session: Session, values: dict[str, Any]) -> LlmCall:
    """Store one model call (tokens, cost, latency, outcome) for the operators."""
    call = LlmCall(**values)
    session.add(call)
    session.flush()
    return call


def usage_by_feature(session: Session) -> dict[str, dict[str, int]]:
    """{feature: {calls, prompt_tokens, completion_tokens, cost_micros}} over all calls."""
    rows = session.execute(
        select(
            LlmCall.feature,
            func.count(),
            func.coalesce(func.sum(LlmCall.prompt_tokens), 0),
            func.coalesce(func.sum(LlmCall.completion_tokens), 0),
            func.coalesce(func.sum(LlmCall.cost_micros), 0),
        ).group_by(LlmCall.feature)
    )
    return {
        feature: {
            "calls": int(n),
            "prompt_tokens": int(prompt),
            "completion_tokens": int(completion),
            "cost_micros": int(cost),
        }
        for feature, n, prompt, completion, cost in rows
    }


def replace_narrative(session: Session, narrative: Narrative) -> Narrative:
    """Keep one narrative per day: a re-run of the day replaces the earlier text."""
    session.execute(delete(Narrative).where(Narrative.day == narrative.day))
    session.add(narrative)
    session.flush()
    return narrative


def latest_narrative(session: Session) -> Narrative | None:
    """The newest day's narrative, for the console."""
    return session.scalars(select(Narrative).order_by(Narrative.day.desc()).limit(1)).first()


def narrative_of(session: Session, day: date) -> Narrative | None:
    return session.scalars(select(Narrative).where(Narrative.day == day)).first()
