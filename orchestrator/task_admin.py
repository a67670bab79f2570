"""Operator actions on tasks: list, inspect, retry a dead letter. Shared by CLI and REST."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.errors import Conflict, NotFound
from db.audit import record_audit
from db.models import Task, TaskStatus
from db.statements import affected_rows

RETRYABLE = (TaskStatus.DEAD,)


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


def retry_task(session: Session, task_id: int, *, actor: str, reason: str) -> Task:
    """Dead -> pending with a fresh attempt budget; published by the caller after commit."""
    task = get_task(session, task_id)
    now = utcnow()
    moved = affected_rows(
        session.execute(
            update(Task)
            .where(Task.id == task_id, Task.status.in_(RETRYABLE))
            .values(
                status=TaskStatus.PENDING,
                attempts=0,
                available_at=now,
                published_at=None,
                finished_at=None,
                updated_at=now,
            )
        )
    )
    if moved != 1:
        raise Conflict(f"task {task_id} is {task.status}; only dead tasks can be retried")
    record_audit(
        session,
        actor=actor,
        action="task.retry",
        subject_type="task",
        subject_id=task_id,
        detail=reason,
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
