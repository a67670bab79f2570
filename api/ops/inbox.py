"""/ops inbox: find Stripe events by id or type, see payload and handling, replay one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from api.auth.dependencies import Operator, origin_of, require_role
from api.dependencies import RuntimeDep
from api.ops.records import record, records
from orchestrator import inbox_admin
from orchestrator.access.roles import VIEWER

router = APIRouter(prefix="/ops", tags=["ops"], dependencies=[Depends(require_role(VIEWER))])


class ReplayBody(BaseModel):
    reason: str = ""


def _summary(event: Any) -> dict[str, Any]:
    row = record(event)
    row.pop("payload")
    return row


@router.get("/inbox")
def find_events(runtime: RuntimeDep, q: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first; `q` is an event id or a type prefix (`invoice.`)."""
    with runtime.database.transaction() as session:
        return [_summary(e) for e in inbox_admin.find_events(session, q, limit=min(limit, 500))]


@router.get("/inbox/{event_id}")
def show_event(event_id: str, runtime: RuntimeDep) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        event = inbox_admin.get_event(session, event_id)
        return {
            **_summary(event),
            "payload": event.body(),
            "tasks": records(inbox_admin.event_tasks(session, event_id)),
        }


@router.post("/inbox/{event_id}/replay", status_code=202)
def replay_event(
    event_id: str, body: ReplayBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        task_id = inbox_admin.replay_event(
            session, event_id, actor=who.username, reason=body.reason, origin=origin_of(request)
        )
    return {"event_id": event_id, "task_id": task_id}
