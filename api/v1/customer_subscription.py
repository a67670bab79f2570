"""A signed-in customer's subscription: read it, preview and request changes, cancel, resume,
pause. Every change answers 202 with the recorded change; `?preview=true` answers 200 with the
money of the change and records nothing. The billing agent makes the Stripe call."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from agents.catalog.loader import load_catalog
from agents.catalog.models import Catalog
from agents.subscriptions.planning import ChangeRequest
from agents.subscriptions.service import (
    change_view,
    customer_subscription,
    preview_change,
    request_change,
    subscription_view,
)
from api.dependencies import RuntimeDep
from api.problems import problem_responses
from api.v1.customer_auth import CustomerDep, CustomerPrincipal
from core.clock import utcnow
from orchestrator.outbox import submit
from orchestrator.wiring import Runtime

router = APIRouter(prefix="/api/v1", tags=["subscription"])
ERRORS = problem_responses(401, 404, 409, 422)
PreviewFlag = Annotated[bool, Query(description="answer the change's money; change nothing")]
IdempotencyKey = Annotated[
    str | None,
    Header(max_length=255, description="the same key and request make one change"),
]


class PlanChange(BaseModel):
    """A new price (catalog key), a new quantity, or both."""

    model_config = ConfigDict(extra="forbid")

    price: str | None = Field(default=None, max_length=100, examples=["pro_monthly"])
    quantity: int | None = Field(default=None, examples=[3])


class PreviewLineOut(BaseModel):
    kind: str
    description: str
    amount: int
    start: datetime
    end: datetime


class PreviewOut(BaseModel):
    """Amounts in minor units of `currency`, before discounts and tax."""

    action: str
    currency: str
    effective_at: datetime
    proration_date: int
    lines: list[PreviewLineOut]
    amount_due_now: int
    next_invoice_amount: int
    next_invoice_date: datetime | None
    refund_amount: int


class ChangeOut(BaseModel):
    id: int
    action: str
    status: str
    from_price: str | None
    to_price: str | None
    from_quantity: int
    to_quantity: int
    effective_at: datetime
    refund_amount: int
    currency: str
    approval_id: int | None
    failure_reason: str | None
    preview: dict[str, Any]


class SubscriptionOut(BaseModel):
    subscription: str
    status: str
    price: str | None
    plan: str | None
    quantity: int
    amount: int
    currency: str
    interval: str
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    collection_paused: bool
    pending_change: ChangeOut | None


# Every change answers 202 with the recorded change, or 200 with the preview.
CHANGE_ROUTE: dict[str, Any] = {
    "status_code": 202,
    "response_model": ChangeOut,
    "responses": {200: {"model": PreviewOut, "description": "the preview"}, **ERRORS},
}


@router.get("/subscription", responses=problem_responses(401, 404))
def get_subscription(principal: CustomerDep, runtime: RuntimeDep) -> SubscriptionOut:
    """Your plan, status, current period and the change waiting to take effect, if any."""
    with runtime.database.transaction() as session:
        view = subscription_view(session, _catalog(runtime), principal.customer_id)
    return SubscriptionOut.model_validate(view)


@router.patch("/subscription", **CHANGE_ROUTE)
def change_plan(
    body: PlanChange,
    principal: CustomerDep,
    runtime: RuntimeDep,
    preview: PreviewFlag = False,
    idempotency_key: IdempotencyKey = None,
) -> ChangeOut | JSONResponse:
    """Upgrade (now, prorated), downgrade (at the period end) or change the quantity."""
    change = ChangeRequest("plan", body.price, body.quantity)
    return _change(runtime, principal, change, preview, idempotency_key)


@router.delete("/subscription", **CHANGE_ROUTE)
def cancel(
    principal: CustomerDep,
    runtime: RuntimeDep,
    at_period_end: Annotated[bool, Query(description="false: end it now")] = True,
    preview: PreviewFlag = False,
    idempotency_key: IdempotencyKey = None,
) -> ChangeOut | JSONResponse:
    """Cancel at the period end, or now (a refund of the unused time waits for an operator)."""
    change = ChangeRequest("cancel", at_period_end=at_period_end)
    return _change(runtime, principal, change, preview, idempotency_key)


@router.post("/subscription/resume", **CHANGE_ROUTE)
def resume(
    principal: CustomerDep,
    runtime: RuntimeDep,
    preview: PreviewFlag = False,
    idempotency_key: IdempotencyKey = None,
) -> ChangeOut | JSONResponse:
    """Undo a cancel at the period end, or resume paused collection."""
    return _change(runtime, principal, ChangeRequest("resume"), preview, idempotency_key)


@router.post("/subscription/pause", **CHANGE_ROUTE)
def pause(
    principal: CustomerDep,
    runtime: RuntimeDep,
    preview: PreviewFlag = False,
    idempotency_key: IdempotencyKey = None,
) -> ChangeOut | JSONResponse:
    """Pause collection: invoices are voided until you resume."""
    return _change(runtime, principal, ChangeRequest("pause"), preview, idempotency_key)


def _change(
    runtime: Runtime,
    principal: CustomerPrincipal,
    change: ChangeRequest,
    preview: bool,
    client_key: str | None,
) -> ChangeOut | JSONResponse:
    catalog = _catalog(runtime)
    with runtime.database.transaction() as session:
        if preview:
            subscription = customer_subscription(session, principal.customer_id)
            money = preview_change(
                session,
                catalog,
                subscription,
                change,
                utcnow().replace(microsecond=0),
                settings=runtime.settings,
            )
            return JSONResponse(PreviewOut.model_validate(money.as_dict()).model_dump(mode="json"))
        row = request_change(
            session,
            catalog,
            principal.customer_id,
            change,
            client_key=client_key,
            requested_by=f"customer:{principal.email}",
            submit=submit,
            settings=runtime.settings,
        )
        return ChangeOut.model_validate(change_view(row))


def _catalog(runtime: Runtime) -> Catalog:
    return load_catalog(runtime.settings.catalog_file)
