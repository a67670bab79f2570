"""`submit()`: write the task row in the caller's transaction; publish its id after commit."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import redis.asyncio as aredis
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.clock import utcnow
from db.models import Task, TaskStatus
from db.statements import insert_ignore, insert_ignore_many
from orchestrator.routes import agent_for
from orchestrator.transport import StreamTransport

log = logging.getLogger(__name__)

_PENDING = "moneta_unpublished_tasks"
_transport: StreamTransport | None = None


def use_transport(transport: StreamTransport | None) -> None:
    """Set the process-wide transport that commits publish to (None: rely on the relay)."""
    global _transport
    _transport = transport


def submit(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    available_at: datetime | None = None,
    max_attempts: int = 8,
) -> int | None:
    """Queue a task; returns its id, or None when a task with `dedupe_key` already exists."""
    agent = agent_for(kind)
    now = utcnow()
    due = available_at is None or available_at <= now
    row = task_row(kind, agent, payload, dedupe_key, available_at or now, max_attempts, now, due)
    task_id = insert_ignore(session, Task, row)
    if task_id is not None and due:
        session.info.setdefault(_PENDING, []).append((agent, task_id))
    return task_id


def submit_many(
    session: Session,
    kind: str,
    payloads: dict[str, dict[str, Any]],
    *,
    max_attempts: int = 8,
) -> dict[str, int]:
    """Queue one due task per `{dedupe_key: payload}` in one statement; returns the ids of
    the tasks it created by dedupe key (keys that already had a task are left out)."""
    if not payloads:
        return {}
    agent = agent_for(kind)
    now = utcnow()
    rows = [
        task_row(kind, agent, payload, key, now, max_attempts, now, True)
        for key, payload in payloads.items()
    ]
    created: dict[str, int] = insert_ignore_many(session, Task, rows, "dedupe_key")
    session.info.setdefault(_PENDING, []).extend((agent, task_id) for task_id in created.values())
    return created


def task_row(
    kind: str,
    agent: str,
    payload: dict[str, Any],
    dedupe_key: str | None,
    available_at: datetime,
    max_attempts: int,
    now: datetime,
    due: bool,
) -> dict[str, Any]:
    """Every column a new task row is written with (the single definition, also used by
    statements that insert tasks in SQL)."""
    return {
        "kind": kind,
        "agent": agent,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "status": TaskStatus.PENDING,
        "attempts": 0,
        "max_attempts": max_attempts,
        "available_at": available_at,
        # Marked published now: if the push after commit is lost, the relay re-sends it.
        "published_at": now if due else None,
        "created_at": now,
        "updated_at": now,
    }


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    publish_committed(session.info.pop(_PENDING, None) or [])


def publish_committed(pending: list[tuple[str, int]]) -> None:
    """Push committed tasks' ids, as (agent, task id), to their agents' streams. A task row is
    marked published when written: if this push is lost, the relay re-sends it."""
    if not pending or _transport is None:
        return
    try:
        _transport.publish(pending)
    except Exception:  # Redis down: the rows are committed, the relay will publish them.
        _publish_failed(pending)


async def publish_committed_in_loop(pending: list[tuple[str, int]], client: aredis.Redis) -> None:
    """`publish_committed` from a coroutine, awaiting `client` (an asyncio client of the
    transport's Redis) in the event loop."""
    if not pending or _transport is None:
        return
    try:
        await _transport.publish_in_loop(client, pending)
    except Exception:
        _publish_failed(pending)


def _publish_failed(pending: list[tuple[str, int]]) -> None:
    log.warning("publish of %d task(s) failed; the relay will retry", len(pending), exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
