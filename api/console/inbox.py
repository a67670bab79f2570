"""Console webhook inbox: find events by id or type, see payload and handling, replay."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from api.auth.dependencies import ConsoleOperator, ConsoleViewer, origin_of
from api.console.rendering import render
from api.dependencies import RuntimeDep
from db.repositories.customer_view import audit_trail
from orchestrator import inbox_admin

router = APIRouter(prefix="/console")


@router.get("/inbox")
def event_list(
    request: Request, runtime: RuntimeDep, me: ConsoleViewer, q: str | None = None
) -> Response:
    with runtime.database.transaction() as session:
        events = inbox_admin.find_events(session, q, limit=100)
    return render(request, "inbox.html", me, events=events, q=q or "")


@router.get("/inbox/{event_id}")
def event_page(event_id: str, request: Request, runtime: RuntimeDep, me: ConsoleViewer) -> Response:
    with runtime.database.transaction() as session:
        event = inbox_admin.get_event(session, event_id)
        tasks = inbox_admin.event_tasks(session, event_id)
        audit = audit_trail(session, "stripe_event", event_id)
    payload = json.dumps(event.body(), indent=2, sort_keys=True)
    return render(request, "event.html", me, e=event, tasks=tasks, audit=audit, payload=payload)


@router.post("/inbox/{event_id}/replay")
def replay(
    event_id: str,
    request: Request,
    runtime: RuntimeDep,
    me: ConsoleOperator,
    reason: Annotated[str, Form()] = "",
) -> Response:
    with runtime.database.transaction() as session:
        inbox_admin.replay_event(
            session, event_id, actor=me.username, reason=reason, origin=origin_of(request)
        )
    return RedirectResponse(f"/console/inbox/{event_id}?done=replayed", status_code=303)
