"""Queries over the Stripe event inbox: load, mark handled, add reconciled events."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from db.models import StripeEvent
from db.statements import insert_ignore


def load_event(session: Session, event_id: str) -> StripeEvent | None:
    return session.get(StripeEvent, event_id)


def mark_event_handled(session: Session, event_id: str, outcome: str) -> None:
    session.execute(
        update(StripeEvent)
        .where(StripeEvent.id == event_id)
        .values(handled_at=utcnow(), outcome=outcome)
    )


def newest_event_created(session: Session) -> int | None:
    """`created` of the newest event in the inbox, whatever its source."""
    return session.execute(select(func.max(StripeEvent.created))).scalar_one_or_none()


def add_event(session: Session, event: dict[str, Any], *, source: str) -> bool:
    """Insert-or-ignore an event fetched from Stripe; True when it was not in the inbox yet."""
    row = {
        "id": event["id"],
        "type": event["type"],
        "created": int(event["created"]),
        "livemode": bool(event.get("livemode", False)),
        "api_version": event.get("api_version"),
        "payload": json.dumps(event, separators=(",", ":")),
        "source": source,
    }
    return insert_ignore(session, StripeEvent, row) is not None
