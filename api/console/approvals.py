"""Console approvals: the queue (refreshed live), the evidence page, approve and reject."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypedDict

from fastapi import APIRouter, Form, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from agents.approvals import service
from agents.approvals.evidence import approval_evidence
from agents.approvals.policy import APPROVE
from api.auth.dependencies import ConsoleApprover, ConsoleViewer, origin_of
from api.console.rendering import render
from api.dependencies import RuntimeDep
from api.ops.approvals import decide_approval
from db.models import Approval, ApprovalDecision, ApprovalStatus, Customer
from db.repositories.customer_view import audit_trail

router = APIRouter(prefix="/console")


class _QueueContext(TypedDict):
    approvals: list[Approval]
    approvals_given: dict[int, int]
    customers: dict[int, str | None]


def _queue(session: Session, status: str | None) -> _QueueContext:
    """The rows of the queue, pending first, with customer labels and approval progress."""
    rows: Sequence[Approval] = service.list_approvals(session, status)
    ordered = sorted(rows, key=lambda a: (a.status != ApprovalStatus.PENDING, -a.id))
    ids = [a.id for a in ordered]
    given = dict(
        session.execute(
            select(ApprovalDecision.approval_id, func.count())
            .where(ApprovalDecision.approval_id.in_(ids), ApprovalDecision.decision == APPROVE)
            .group_by(ApprovalDecision.approval_id)
        ).all()
    )
    customer_ids = {a.customer_id for a in ordered if a.customer_id}
    customers = {
        c.id: c.email or c.name or c.stripe_customer_id
        for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))
    }
    return {"approvals": ordered, "approvals_given": given, "customers": customers}


@router.get("/approvals")
def approval_queue(
    request: Request, runtime: RuntimeDep, me: ConsoleViewer, status: str | None = None
) -> Response:
    with runtime.database.transaction() as session:
        context = _queue(session, status or None)
    return render(request, "approvals.html", me, status=status, **context)


@router.get("/approvals/rows")
def approval_rows(
    request: Request, runtime: RuntimeDep, me: ConsoleViewer, status: str | None = None
) -> Response:
    """The queue's table body alone, polled by the page every few seconds."""
    with runtime.database.transaction() as session:
        context = _queue(session, status or None)
    return render(request, "_approval_rows.html", me, status=status, **context)


@router.get("/approvals/{approval_id}")
def approval_page(
    approval_id: int, request: Request, runtime: RuntimeDep, me: ConsoleViewer
) -> Response:
    with runtime.database.transaction() as session:
        detail = service.get_approval(session, approval_id)
        evidence = approval_evidence(session, detail.approval)
        audit = audit_trail(session, "approval", approval_id)
    return render(
        request,
        "approval.html",
        me,
        a=detail.approval,
        decisions=detail.decisions,
        ev=evidence,
        audit=audit,
    )


@router.post("/approvals/{approval_id}/approve")
def approve(
    approval_id: int,
    request: Request,
    runtime: RuntimeDep,
    me: ConsoleApprover,
    note: Annotated[str, Form()] = "",
) -> Response:
    return _decide(request, runtime, me, approval_id, True, note)


@router.post("/approvals/{approval_id}/reject")
def reject(
    approval_id: int,
    request: Request,
    runtime: RuntimeDep,
    me: ConsoleApprover,
    note: Annotated[str, Form()] = "",
) -> Response:
    return _decide(request, runtime, me, approval_id, False, note)


def _decide(
    request: Request,
    runtime: RuntimeDep,
    me: ConsoleApprover,
    approval_id: int,
    approve: bool,
    note: str,
) -> Response:
    decide_approval(runtime, me, approval_id, approve, note, origin_of(request))
    done = "approved" if approve else "rejected"
    return RedirectResponse(f"/console/approvals/{approval_id}?done={done}", status_code=303)
