"""/api/v1/processes: operators register and steer monetized processes; usage is recorded by
the customer using a process (its API key) or by an operator naming the user.

Management needs an operator bearer token (roles as on /ops). Business errors keep their
status: illegal lifecycle moves and usage of a process that is not active are 409 with a code.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, StrictInt

from agents.processes import service
from api.auth.dependencies import Operator, Viewer
from api.dependencies import RuntimeDep
from api.v1.auth import CallerDep
from core.errors import InvalidInput

router = APIRouter(prefix="/api/v1/processes", tags=["processes"])


class RegisterBody(BaseModel):
    owner_id: str = Field(min_length=1, max_length=128)
    owner_name: str | None = None
    owner_email: str | None = None
    name: str
    description: str = ""
    product_type: Literal["service", "content", "license", "subscription"]
    revenue_model: Literal["fixed", "usage_based", "tiered", "subscription"]
    pricing: dict[str, Any]
    currency: str = Field(min_length=3, max_length=3)


class UsageBody(BaseModel):
    quantity: StrictInt = 1
    idempotency_key: str
    user: str | None = None  # operators name the user; an API key is its own user


@router.post("", status_code=201)
def register_process(body: RegisterBody, runtime: RuntimeDep, who: Operator) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        process = service.register_process(
            session,
            owner_ref=body.owner_id,
            owner_name=body.owner_name,
            owner_email=body.owner_email,
            name=body.name,
            description=body.description,
            product_type=body.product_type,
            revenue_model=body.revenue_model,
            pricing=body.pricing,
            currency=body.currency,
            actor=who.username,
        )
        return service.process_view(process)


@router.get("")
def list_processes(
    runtime: RuntimeDep, who: Viewer, status: str | None = None
) -> list[dict[str, Any]]:
    with runtime.database.transaction() as session:
        return [service.process_view(p) for p in service.list_processes(session, status)]


@router.get("/stats")
def overall_stats(runtime: RuntimeDep, who: Viewer) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        return service.overall_stats(session)


@router.get("/{process_id}")
def show_process(process_id: int, runtime: RuntimeDep, who: Viewer) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        return service.process_stats(session, process_id)


@router.post("/{process_id}/usage", status_code=201)
def record_usage(
    process_id: int, body: UsageBody, runtime: RuntimeDep, caller: CallerDep
) -> dict[str, Any]:
    if caller.customer_id is not None:
        user = f"customer:{caller.customer_id}"
    elif body.user:
        user = body.user
    else:
        raise InvalidInput("name the user of the process", code="bad_user")
    with runtime.database.transaction() as session:
        recorded = service.record_usage(
            session,
            process_id,
            quantity=body.quantity,
            user_ref=user,
            idempotency_key=body.idempotency_key,
            settings=runtime.settings,
        )
        return service.usage_view(recorded)


@router.post("/{process_id}/{action}")
def change_status(
    process_id: int,
    action: Literal["activate", "pause", "resume", "retire"],
    runtime: RuntimeDep,
    who: Operator,
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        process = service.change_status(session, process_id, action, actor=who.username)
        return service.process_view(process)
