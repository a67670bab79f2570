"""The webhook inbox write: events stored in batches (`api.group_commit`), one task each."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from api.group_commit import GroupCommit
from core.clock import utcnow
from db.autocommit import AsyncConnection, AutocommitConnections
from db.models import StripeEvent
from db.repositories import stripe_inbox
from db.session import Database
from db.statements import insert_ignore_many
from orchestrator.inbox_admin import EVENT_TASK, EVENT_TASK_KEY_PREFIX, event_task_key
from orchestrator.loop_redis import LoopRedis
from orchestrator.outbox import publish_committed_in_loop, submit_many, task_row
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


async def store_events(
    connections: AutocommitConnections,
    redis: LoopRedis,
    events: list[InboxEvent],
    *,
    max_attempts: int,
) -> set[str]:
    """PostgreSQL: inbox rows and their billing tasks in one statement
    (`stripe_inbox.store_with_tasks`), then the new tasks published, all awaited in the event
    loop; the ids that were new. An id seen earlier in `events` or already in the inbox is a
    duplicate and queues nothing."""
    rows = _distinct_rows(events)
    now = utcnow()
    template = task_row(EVENT_TASK, AGENT, {}, None, now, max_attempts, now, True)

    async def write(connection: AsyncConnection) -> dict[str, int | None]:
        return await stripe_inbox.store_with_tasks(
            connection, rows, template, EVENT_TASK_KEY_PREFIX
        )

    new = await connections.run(write)
    queued = [(AGENT, task_id) for task_id in new.values() if task_id is not None]
    await publish_committed_in_loop(queued, redis.client())
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


def inbox_writer(
    database: Database, redis: LoopRedis, *, max_attempts: int
) -> GroupCommit[InboxEvent, bool]:
    """Answers True for an event stored as new; False for a duplicate, including a second
    copy of an id within the same batch. On PostgreSQL each batch is awaited in the event
    loop (`store_events`); elsewhere one ORM transaction on a worker thread."""
    if database.dialect == "postgresql":
        connections = AutocommitConnections(database.url)

        async def write_at_once(events: list[InboxEvent]) -> list[bool]:
            new = await store_events(connections, redis, events, max_attempts=max_attempts)
            return _answers(events, new)

        return GroupCommit.in_loop(write_at_once)

    def write_in_transaction(events: list[InboxEvent]) -> list[bool]:
        rows = _distinct_rows(events)
        return _answers(
            events, store_events_in_transaction(database, rows, max_attempts=max_attempts)
        )

    return GroupCommit(write_in_transaction)


def _answers(events: list[InboxEvent], new: set[str]) -> list[bool]:
    """True for the first copy of each new id."""
    answered: set[str] = set()
    flags = []
    for event in events:
        flags.append(event.id in new and event.id not in answered)
        answered.add(event.id)
    return flags
