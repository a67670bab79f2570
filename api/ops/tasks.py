"""/ops tasks: counts and queue lag, list and inspect, retry or discard a dead letter."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel

from api.auth.dependencies import Operator, origin_of, require_role
from api.dependencies import RuntimeDep
from core.clock import utcnow
from orchestrator import task_admin
from orchestrator.access.roles import VIEWER
from orchestrator.relay import relay_once

router = APIRouter(prefix="/ops", tags=["ops"], dependencies=[Depends(require_role(VIEWER))])


class ReasonBody(BaseModel):
    reason: str


@router.get("/tasks/summary")
def task_summary(runtime: RuntimeDep) -> dict[str, Any]:
    """Counts by agent and status, and each agent's queue lag in seconds."""
    with runtime.database.transaction() as session:
        counts = task_admin.counts_by_status(session)
        oldest = task_admin.oldest_ready_by_agent(session)
    now = utcnow()
    lag = {agent: round((now - at).total_seconds(), 3) for agent, at in oldest.items()}
    return {"counts": counts, "queue_lag_seconds": lag}


@router.get("/tasks")
def list_tasks(
    runtime: RuntimeDep,
    status: str | None = None,
    agent: str | None = None,
    kind: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    with runtime.database.transaction() as session:
        rows = task_admin.list_tasks(
            session, status=status, agent=agent, kind=kind, limit=min(limit, 500)
        )
        return jsonable_encoder([task_admin.task_row(t) for t in rows])


@router.get("/tasks/{task_id}")
def show_task(task_id: int, runtime: RuntimeDep) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        return jsonable_encoder(
            task_admin.task_row(task_admin.get_task(session, task_id), full=True)
        )


@router.post("/tasks/{task_id}/retry")
def retry_task(
    task_id: int, body: ReasonBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        task = task_admin.retry_task(
            session, task_id, actor=who.username, reason=body.reason, origin=origin_of(request)
        )
        row = task_admin.task_row(task)
    relay_once(runtime.database, runtime.transport, runtime.settings)
    return jsonable_encoder(row)


@router.post("/tasks/{task_id}/discard")
def discard_task(
    task_id: int, body: ReasonBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        task = task_admin.discard_task(
            session, task_id, actor=who.username, reason=body.reason, origin=origin_of(request)
        )
        return jsonable_encoder(task_admin.task_row(task))
