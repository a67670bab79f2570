"""Operator actions on tasks: list, inspect, retry or discard a dead letter, queue lag.

Shared by the CLI, the REST API and the console.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.errors import Conflict, InvalidInput, NotFound
from db.audit import record_audit
from db.models import Task, TaskStatus
from db.statements import affected_rows

# What operators may do to a task, as (from, to); the worker's own moves live in runtime.py.
OPERATOR_TRANSITIONS: dict[str, tuple[str, str]] = {
    "retry": (TaskStatus.DEAD, TaskStatus.PENDING),
    "discard": (TaskStatus.DEAD, TaskStatus.DISCARDED),
}
_DONE = {"retry": "retried", "discard": "discarded"}


def task_row(task: Task, *, full: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": task.id,
        "kind": task.kind,
        "agent": task.agent,
        "status": task.status,
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "available_at": task.available_at,
        "created_at": task.created_at,
        "finished_at": task.finished_at,
        "last_error": (task.last_error or "").splitlines()[-1][:120] if task.last_error else None,
    }
    if full:
        row.update(
            payload=task.payload,
            result=task.result,
            dedupe_key=task.dedupe_key,
            last_error=task.last_error,
            lease_owner=task.lease_owner,
            lease_until=task.lease_until,
        )
    return row


def list_tasks(
    session: Session,
    *,
    status: str | None = None,
    agent: str | None = None,
    kind: str | None = None,
    limit: int = 50,
) -> list[Task]:
    query = select(Task).order_by(Task.id.desc()).limit(limit)
    if status:
        query = query.where(Task.status == status)
    if agent:
        query = query.where(Task.agent == agent)
    if kind:
        query = query.where(Task.kind == kind)
    return list(session.scalars(query))


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    return task


def retry_task(
    session: Session, task_id: int, *, actor: str, reason: str, origin: str | None = None
) -> Task:
    """Dead -> pending with a fresh attempt budget; published by the caller after commit."""
    now = utcnow()
    return _operator_move(
        session,
        task_id,
        "retry",
        actor=actor,
        reason=reason,
        origin=origin,
        attempts=0,
        available_at=now,
        published_at=None,
        finished_at=None,
    )


def discard_task(
    session: Session, task_id: int, *, actor: str, reason: str, origin: str | None = None
) -> Task:
    """Dead -> discarded: the operator settles that this dead letter will never run again."""
    return _operator_move(
        session, task_id, "discard", actor=actor, reason=reason, origin=origin, finished_at=utcnow()
    )


def _operator_move(
    session: Session,
    task_id: int,
    action: str,
    *,
    actor: str,
    reason: str,
    origin: str | None,
    **values: Any,
) -> Task:
    """Compare-and-set along OPERATOR_TRANSITIONS[action], audited with the operator's reason."""
    source, target = OPERATOR_TRANSITIONS[action]
    if not reason.strip():
        raise InvalidInput(f"a reason is required to {action} a task", code="reason_required")
    task = get_task(session, task_id)
    moved = affected_rows(
        session.execute(
            update(Task)
            .where(Task.id == task_id, Task.status == source)
            .values(status=target, updated_at=utcnow(), **values)
        )
    )
    if moved != 1:
        done = _DONE[action]
        raise Conflict(f"task {task_id} is {task.status}; only {source} tasks can be {done}")
    record_audit(
        session,
        actor=actor,
        action=f"task.{action}",
        subject_type="task",
        subject_id=task_id,
        origin=origin,
        detail=reason.strip(),
    )
    session.refresh(task)
    return task


def counts_by_status(session: Session) -> dict[str, dict[str, int]]:
    """{agent: {status: count}} in one query."""
    out: dict[str, dict[str, int]] = {}
    for agent, status, n in session.execute(
        select(Task.agent, Task.status, func.count()).group_by(Task.agent, Task.status)
    ):
        out.setdefault(agent, {})[status] = n
    return out


def oldest_ready_by_agent(session: Session) -> dict[str, datetime]:
    """{agent: available_at of its oldest pending task that is due}: the queue lag's start."""
    rows = session.execute(
        select(Task.agent, func.min(Task.available_at))
        .where(Task.status == TaskStatus.PENDING, Task.available_at <= utcnow())
        .group_by(Task.agent)
    )
    return {agent: oldest for agent, oldest in rows}
