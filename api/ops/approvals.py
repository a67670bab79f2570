"""/ops approvals and refund requests: thin handlers over agents.approvals.service."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, StrictInt

from agents.approvals import service
from agents.approvals.views import approval_detail_view, approval_view
from api.dependencies import RuntimeDep, current_runtime
from core.errors import Forbidden, MonetaError
from orchestrator.outbox import submit
from orchestrator.wiring import Runtime


class Unauthorized(MonetaError):
    status_code = 401
    code = "unauthorized"


def require_ops_token(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    """`Authorization: Bearer <MONETA_OPS_TOKEN>`; with no token configured the API is closed."""
    expected = current_runtime(request).settings.ops_token
    if not expected:
        raise Forbidden(
            "the operator API is disabled: set MONETA_OPS_TOKEN to enable it",
            code="ops_token_unset",
        )
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        raise Unauthorized("send Authorization: Bearer <MONETA_OPS_TOKEN>")


router = APIRouter(prefix="/ops", tags=["ops"], dependencies=[Depends(require_ops_token)])


class ApproveBody(BaseModel):
    operator: str
    note: str | None = None


class RejectBody(BaseModel):
    operator: str
    reason: str


class RefundRequestBody(BaseModel):
    payment: str
    amount: StrictInt  # minor units; a float is refused rather than rounded
    reason: str
    requested_by: str


def _origin(request: Request) -> str:
    return f"api:{request.client.host}" if request.client else "api"


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
    approval_id: int, body: ApproveBody, request: Request, runtime: RuntimeDep
) -> dict[str, Any]:
    return _decide(runtime, request, approval_id, body.operator, True, body.note)


@router.post("/approvals/{approval_id}/reject")
def reject(
    approval_id: int, body: RejectBody, request: Request, runtime: RuntimeDep
) -> dict[str, Any]:
    return _decide(runtime, request, approval_id, body.operator, False, body.reason)


def _decide(
    runtime: Runtime,
    request: Request,
    approval_id: int,
    operator: str,
    approve: bool,
    note: str | None,
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        service.decide(
            session,
            approval_id,
            operator=operator,
            approve=approve,
            note=note,
            submit=submit,
            origin=_origin(request),
        )
        return approval_detail_view(service.get_approval(session, approval_id))


@router.post("/refunds", status_code=201)
def request_refund(
    body: RefundRequestBody, request: Request, runtime: RuntimeDep
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        approval = service.request_refund(
            session,
            payment_ref=body.payment,
            amount=body.amount,
            reason=body.reason,
            requested_by=body.requested_by,
            submit=submit,
            settings=runtime.settings,
            origin=_origin(request),
        )
        return approval_view(approval)
