"""The console's front page: what needs a human now, and how the business is doing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.auth.dependencies import ConsoleViewer
from api.console.rendering import render
from api.dependencies import RuntimeDep
from db.models import Approval, ApprovalStatus, MetricSnapshot
from db.repositories.llm import latest_narrative
from orchestrator import task_admin

router = APIRouter(prefix="/console")


def task_counts(session: Session) -> dict[str, Any]:
    counts = task_admin.counts_by_status(session)
    totals: dict[str, int] = {}
    for by_status in counts.values():
        for status, n in by_status.items():
            totals[status] = totals.get(status, 0) + n
    return {
        "by_agent": counts,
        "totals": totals,
        "oldest": task_admin.oldest_ready_by_agent(session),
    }


@router.get("")
def overview(request: Request, runtime: RuntimeDep, me: ConsoleViewer) -> Response:
    with runtime.database.transaction() as session:
        pending = session.scalar(
            select(func.count(Approval.id)).where(Approval.status == ApprovalStatus.PENDING)
        )
        latest_day = session.scalar(select(func.max(MetricSnapshot.day)))
        headline = list(
            session.scalars(
                select(MetricSnapshot).where(
                    MetricSnapshot.day == latest_day, MetricSnapshot.plan == "*"
                )
            )
        )
        narrative = latest_narrative(session)
        tasks = task_counts(session)
    return render(
        request,
        "dashboard.html",
        me,
        pending=pending or 0,
        headline=headline,
        latest_day=latest_day,
        narrative=narrative,
        tasks=tasks,
    )


@router.get("/tasks/counts")
def task_count_fragment(request: Request, runtime: RuntimeDep, me: ConsoleViewer) -> Response:
    """Task counts by agent and status with queue lag, polled by the pages that show them."""
    with runtime.database.transaction() as session:
        tasks = task_counts(session)
    return render(request, "_task_counts.html", me, tasks=tasks)
