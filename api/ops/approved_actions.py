"""/ops requests of gated operator actions: a manual charge and an invoice write-off.

The requesting operator is the bearer token's, never a field of the body; both become pending
approvals decided through /ops/approvals/{id}/approve|reject.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, StrictInt

from agents.approvals.views import approval_view
from agents.approved_actions.requests import request_manual_charge, request_write_off
from api.auth.dependencies import Operator, origin_of, require_role
from api.dependencies import RuntimeDep
from orchestrator.access.roles import VIEWER
from orchestrator.outbox import submit

router = APIRouter(prefix="/ops", tags=["ops"], dependencies=[Depends(require_role(VIEWER))])


class ChargeRequestBody(BaseModel):
    customer_id: StrictInt
    amount: StrictInt  # minor units; a float is refused rather than rounded
    currency: str
    description: str
    reason: str


class WriteOffRequestBody(BaseModel):
    invoice: str  # Stripe invoice id
    reason: str


@router.post("/charges", status_code=201)
def request_charge(
    body: ChargeRequestBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        approval = request_manual_charge(
            session,
            customer_id=body.customer_id,
            amount=body.amount,
            currency=body.currency,
            description=body.description,
            reason=body.reason,
            requested_by=who.username,
            submit=submit,
            settings=runtime.settings,
            origin=origin_of(request),
        )
        return approval_view(approval)


@router.post("/write-offs", status_code=201)
def request_invoice_write_off(
    body: WriteOffRequestBody, request: Request, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        approval = request_write_off(
            session,
            invoice=body.invoice,
            reason=body.reason,
            requested_by=who.username,
            submit=submit,
            settings=runtime.settings,
            origin=origin_of(request),
        )
        return approval_view(approval)
