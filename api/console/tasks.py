"""Console tasks: list by status and agent, a task's details, retry or discard a dead one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from api.auth.dependencies import ConsoleOperator, ConsoleViewer, origin_of
from api.console.dashboard import task_counts
from api.console.rendering import render
from api.dependencies import RuntimeDep
from db.repositories.customer_view import audit_trail
from orchestrator import task_admin
from orchestrator.relay import relay_once

router = APIRouter(prefix="/console")


@router.get("/tasks")
def task_list(
    request: Request,
    runtime: RuntimeDep,
    me: ConsoleViewer,
    status: str | None = None,
    agent: str | None = None,
) -> Response:
    with runtime.database.transaction() as session:
        rows = task_admin.list_tasks(session, status=status or None, agent=agent or None, limit=100)
        tasks = task_counts(session)
    return render(request, "tasks.html", me, rows=rows, tasks=tasks, status=status, agent=agent)


@router.get("/tasks/{task_id}")
def task_page(task_id: int, request: Request, runtime: RuntimeDep, me: ConsoleViewer) -> Response:
    with runtime.database.transaction() as session:
        task = task_admin.get_task(session, task_id)
        audit = audit_trail(session, "task", task_id)
    return render(request, "task.html", me, t=task, audit=audit)


@router.post("/tasks/{task_id}/retry")
def retry(
    task_id: int,
    request: Request,
    runtime: RuntimeDep,
    me: ConsoleOperator,
    reason: Annotated[str, Form()] = "",
) -> Response:
    with runtime.database.transaction() as session:
        task_admin.retry_task(
            session, task_id, actor=me.username, reason=reason, origin=origin_of(request)
        )
    relay_once(runtime.database, runtime.transport, runtime.settings)
    return RedirectResponse(f"/console/tasks/{task_id}?done=retried", status_code=303)


@router.post("/tasks/{task_id}/discard")
def discard(
    task_id: int,
    request: Request,
    runtime: RuntimeDep,
    me: ConsoleOperator,
    reason: Annotated[str, Form()] = "",
) -> Response:
    with runtime.database.transaction() as session:
        task_admin.discard_task(
            session, task_id, actor=me.username, reason=reason, origin=origin_of(request)
        )
    return RedirectResponse(f"/console/tasks/{task_id}?done=discarded", status_code=303)
