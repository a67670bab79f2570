"""The webhook inbox write: events stored in batches (`api.group_commit`), one task each."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from api.group_commit import GroupCommit
from core.clock import utcnow
from db.models import StripeEvent
from db.repositories import stripe_inbox
from db.session import Database
from db.statements import insert_ignore_many
from orchestrator.inbox_admin import EVENT_TASK, EVENT_TASK_KEY_PREFIX, event_task_key
from orchestrator.outbox import publish_committed, submit_many, task_row
from orchestrator.routes import agent_for

AGENT = agent_for(EVENT_TASK)


@dataclass(frozen=True)
class InboxEvent:
    """The envelope fields the inbox keeps, plus the raw payload exactly as verified."""

    id: str
    type: str
    created: int
    livemode: bool
    api_version: str | None
    payload: str


def store_events(database: Database, events: list[InboxEvent], *, max_attempts: int) -> set[str]:
    """Inbox rows and their billing tasks, stored atomically; the ids that were new.

    An id seen earlier in `events` or already in the inbox is a duplicate and queues nothing.
    On PostgreSQL one statement does it all (`stripe_inbox.store_with_tasks`); elsewhere
    through the ORM in one transaction (`store_events_in_transaction`).
    """
    rows = _distinct_rows(events)
    if database.dialect != "postgresql":
        return store_events_in_transaction(database, rows, max_attempts=max_attempts)
    now = utcnow()
    template = task_row(EVENT_TASK, AGENT, {}, None, now, max_attempts, now, True)
    with database.autocommit() as connection:
        new = stripe_inbox.store_with_tasks(connection, rows, template, EVENT_TASK_KEY_PREFIX)
    publish_committed([(AGENT, task_id) for task_id in new.values() if task_id is not None])
    return set(new)


def store_events_in_transaction(
    database: Database, rows: list[dict[str, Any]], *, max_attempts: int
) -> set[str]:
    """The portable path: rows of distinct ids through `insert_ignore_many` and `submit_many`
    (published after commit); the ids that were new."""
    with database.transaction() as session:
        new = insert_ignore_many(session, StripeEvent, rows, "id")
        submit_many(
            session,
            EVENT_TASK,
            {event_task_key(event_id): {"event_id": event_id} for event_id in new},
            max_attempts=max_attempts,
        )
    return set(new)


def _distinct_rows(events: list[InboxEvent]) -> list[dict[str, Any]]:
    """One row per id, the first copy's."""
    first: dict[str, InboxEvent] = {}
    for event in events:
        first.setdefault(event.id, event)
    return [asdict(event) for event in first.values()]


def inbox_writer(database: Database, *, max_attempts: int) -> GroupCommit[InboxEvent, bool]:
    """Answers True for an event stored as new; False for a duplicate, including a second
    copy of an id within the same batch."""

    def write(events: list[InboxEvent]) -> list[bool]:
        new = store_events(database, events, max_attempts=max_attempts)
        answered: set[str] = set()
        flags = []
        for event in events:
            flags.append(event.id in new and event.id not in answered)
            answered.add(event.id)
        return flags

    return GroupCommit(write)
