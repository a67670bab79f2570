"""Operator actions on the Stripe event inbox: find events, see their handling, replay one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.errors import Conflict, NotFound
from db.audit import record_audit
from db.models import StripeEvent, Task
from orchestrator.outbox import submit

EVENT_TASK = "stripe.event"
EVENT_TASK_KEY_PREFIX = "stripe-event:"  # one first billing task per event id, ever


def event_task_key(event_id: str) -> str:
    """The dedupe key intake (api/intake_batch.py) and reconciliation give an event's first
    task."""
    return f"{EVENT_TASK_KEY_PREFIX}{event_id}"


def find_events(
    session: Session, query: str | None = None, *, limit: int = 50
) -> list[StripeEvent]:
    """Newest first; `query` matches an event id exactly or a type by prefix."""
    stmt = select(StripeEvent).order_by(StripeEvent.received_at.desc(), StripeEvent.id).limit(limit)
    if query and query.strip():
        q = query.strip()
        stmt = stmt.where(or_(StripeEvent.id == q, StripeEvent.type.startswith(q)))
    return list(session.scalars(stmt))


def get_event(session: Session, event_id: str) -> StripeEvent:
    event = session.get(StripeEvent, event_id)
    if event is None:
        raise NotFound(f"no event {event_id!r} in the inbox")
    return event


def event_tasks(session: Session, event_id: str) -> Sequence[Task]:
    """The tasks that handled (or replayed) the event, oldest first."""
    key = event_task_key(event_id)
    stmt = select(Task).where(or_(Task.dedupe_key == key, Task.dedupe_key.startswith(f"{key}:")))
    return session.scalars(stmt.order_by(Task.id)).all()


def replay_event(
    session: Session, event_id: str, *, actor: str, reason: str, origin: str | None = None
) -> int:
    """Submit the event's billing task again (handlers are idempotent); returns the task id."""
    event = get_event(session, event_id)
    attempt = len(event_tasks(session, event_id))
    task_id = submit(
        session,
        EVENT_TASK,
        {"event_id": event.id},
        dedupe_key=f"{event_task_key(event.id)}:replay:{attempt}",
    )
    if task_id is None:
        raise Conflict(f"event {event_id} is being replayed concurrently", code="replay_conflict")
    record_audit(
        session,
        actor=actor,
        action="inbox.replay",
        subject_type="stripe_event",
        subject_id=event.id,
        origin=origin,
        data={"task_id": task_id, "type": event.type},
        detail=reason.strip() or None,
    )
    return task_id
