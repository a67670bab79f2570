"""/ops approvals and refund requests: thin handlers over agents.approvals.service.

The deciding and requesting operator is the one the bearer token belongs to, never a field of
the body; the service refuses an approval by its own requester.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, StrictInt

from agents.approvals import service
from agents.approvals.views import approval_detail_view, approval_view
from api.auth.dependencies import Approver, Operator, origin_of, require_role
from api.dependencies import RuntimeDep
from orchestrator.access.accounts import Identity
from orchestrator.access.roles import VIEWER
from orchestrator.outbox import submit
from orchestrator.wiring import Runtime

router = APIRouter(prefix="/ops", tags=["ops"], dependencies=[Depends(require_role(VIEWER))])


class ApproveBody(BaseModel):
    note: str | None = None


class RejectBody(BaseModel):
    reason: str


class RefundRequestBody(BaseModel):
    payment: str
    amount: StrictInt  # minor units; a float is refused rather than rounded
    reason: str


@router.get("/approvals")
def list_approvals(runtime: RuntimeDep, status: str | None = None) -> list[dict[str, Any]]:
    with runtime.database.transaction() as session:
        return [approval_view(a) for a in service.list_approvals(session, status)]


@router.get("/approvals/{approval_id}")
def show_approval(approval_id: int, runtime: RuntimeDep) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        return approval_detail_view(service.get_approval(session, approval_id))


@router.post("/approvals/{approval_id}/approve")
def approve(
    approval_id: int, body: ApproveBody, request: Request, runtime: RuntimeDep, who: Approver
) -> dict[str, Any]:
    return decide_approval(runtime, who, approval_id, True, body.note, origin_of(request))


@router.post("/approvals/{approval_id}/reject")
def reject(
    approval_id: int, body: RejectBody, request: Request, runtime: RuntimeDep, who: Approver
) -> dict[str, Any]:
    return decide_approval(runtime, who, approval_id, False, body.reason, origin_of(request))


def decide_approval(
    runtime: Runtime, who: Identity, approval_id: int, approve: bool, note: str | None, origin: str
) -> dict[str, Any]:
    """One decision by `who`, committed with the task that resumes the refund graph."""
    with runtime.database.transaction() as session:
        service.decide(
            session,
            approval_id,
            operator=who.username,
            approve=approve,
            note=note,
            submit=submit,
            origin=origin,
        )
        return approval_detail_view(service.get_approval(session, approval_id))


@router.post("/refunds", status_code=201)
def request_refund(
    body: RefundRequestBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        approval = service.request_refund(
            session,
            payment_ref=body.payment,
            amount=body.amount,
            reason=body.reason,
            requested_by=who.username,
            submit=submit,
            settings=runtime.settings,
            origin=origin_of(request),
        )
        return approval_view(approval)
