"""/ops API keys: operators create (secret shown once), list and revoke customers' keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from api.auth.dependencies import Operator, Viewer, origin_of
from api.dependencies import RuntimeDep
from orchestrator.access.api_keys import (
    api_key_view,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)

router = APIRouter(prefix="/ops", tags=["ops"])


@router.post("/customers/{customer_id}/api-keys", status_code=201)
def create_key(
    customer_id: int,
    request: Request,
    runtime: RuntimeDep,
    operator: Operator,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    """A new key for the customer; `secret` is in this answer only."""
    label = (body or {}).get("label")
    with runtime.database.transaction() as session:
        new = create_api_key(
            session,
            customer_id,
            actor=operator.username,
            label=str(label) if label is not None else None,
            origin=origin_of(request),
        )
        return {**api_key_view(new.key), "secret": new.secret}


@router.get("/customers/{customer_id}/api-keys")
def list_keys(customer_id: int, runtime: RuntimeDep, _viewer: Viewer) -> list[dict[str, Any]]:
    with runtime.database.transaction() as session:
        return [api_key_view(key) for key in list_api_keys(session, customer_id)]


@router.post("/api-keys/{prefix}/revoke")
def revoke_key(
    prefix: str, request: Request, runtime: RuntimeDep, operator: Operator
) -> dict[str, Any]:
    with runtime.database.transaction() as session:
        key = revoke_api_key(session, prefix, actor=operator.username, origin=origin_of(request))
        return api_key_view(key)
