"""Queries over the Stripe event inbox: store delivered events with their tasks, load, mark
handled, add reconciled events."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from db.autocommit import AsyncConnection
from db.models import StripeEvent
from db.statements import execute_prebuilt, insert_ignore, json_rows


class StoredEvent(NamedTuple):
    """What applying an inbox event needs of its row."""

    type: str
    body: dict[str, Any]


def load_event(session: Session, event_id: str) -> StoredEvent | None:
    """The event's type and parsed body, read as two columns (once per billing task: loading
    the whole StripeEvent entity cost more than the query)."""
    row = execute_prebuilt(session, _TYPE_AND_PAYLOAD, {"event_id": event_id}).first()
    return None if row is None else StoredEvent(row.type, json.loads(row.payload))


_TYPE_AND_PAYLOAD = select(StripeEvent.type, StripeEvent.payload).where(
    StripeEvent.id == bindparam("event_id")
)


def mark_event_handled(session: Session, event_id: str, outcome: str) -> None:
    execute_prebuilt(
        session, _MARK_HANDLED, {"event_id": event_id, "handled_at": utcnow(), "outcome": outcome}
    )


# Once per billing task.
_MARK_HANDLED = (
    update(StripeEvent)
    .where(StripeEvent.id == bindparam("event_id"))
    .values(handled_at=bindparam("handled_at"), outcome=bindparam("outcome"))
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


# PostgreSQL: a batch of deliveries stored in one statement, so one round trip and one commit
# (autocommit) instead of BEGIN, two INSERTs and COMMIT through the ORM. The events travel as
# one JSON parameter (`json_rows`; per-row parameters were most of the intake's database
# CPU in Python); the task of each new event is inserted from the event insert's RETURNING,
# so a duplicate queues nothing. Columns and values are those of `StripeEvent` rows written
# by the ORM and of `orchestrator.outbox.task_row` (compared in tests).
_STORE_WITH_TASKS = """
    WITH stored AS (
        INSERT INTO stripe_events
            (id, type, created, livemode, api_version, payload, source, received_at)
        SELECT id, type, created, livemode, api_version, payload, 'webhook', %(now)s
        FROM json_to_recordset(CAST(%(events)s AS JSON)) AS delivered(
            id TEXT, type TEXT, created BIGINT, livemode BOOLEAN, api_version TEXT, payload TEXT
        )
        ON CONFLICT DO NOTHING
        RETURNING id
    ), queued AS (
        INSERT INTO tasks (kind, agent, payload, dedupe_key, status, attempts, max_attempts,
            available_at, published_at, created_at, updated_at)
        SELECT %(kind)s, %(agent)s, jsonb_build_object('event_id', id), %(key_prefix)s || id,
            %(status)s, %(attempts)s, %(max_attempts)s, %(available_at)s, %(published_at)s,
            %(created_at)s, %(updated_at)s
        FROM stored
        ON CONFLICT DO NOTHING
        RETURNING id, dedupe_key
    )
    SELECT stored.id, queued.id FROM stored
    LEFT JOIN queued ON queued.dedupe_key = %(key_prefix)s || stored.id
"""


async def store_with_tasks(
    connection: AsyncConnection,
    events: list[dict[str, Any]],
    task: dict[str, Any],
    key_prefix: str,
) -> dict[str, int | None]:
    """Insert-or-ignore `events` (distinct ids) and, for each new one, a task with the
    constant columns of `task`, payload `{"event_id": id}` and dedupe key `key_prefix + id`.
    {new event id: its task id}; None where a task with that key existed already. PostgreSQL
    only, on an autocommit connection (`db.autocommit`), where it is its own transaction, and
    safe to repeat (a repeat stores nothing and queues nothing)."""
    constants = {k: v for k, v in task.items() if k not in ("payload", "dedupe_key")}
    params = {
        **constants,
        "events": json_rows(events),
        "now": task["created_at"],
        "key_prefix": key_prefix,
    }
    cursor = await connection.execute(_STORE_WITH_TASKS, params)
    return {event_id: task_id for event_id, task_id in await cursor.fetchall()}
