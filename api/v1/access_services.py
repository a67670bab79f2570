"""The access service of this app: built on first use, closed (telemetry flushed) at shutdown."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from starlette.datastructures import State

from agents.access.service import AccessService, build_access_service
from api.dependencies import current_runtime
from orchestrator.wiring import Runtime

_STATE = "access_service"


async def access_service(request: Request) -> AccessService:
    """Async, so that a request costs no thread hop for it."""
    return service_of(request.app.state, current_runtime(request))


def service_of(state: State, runtime: Runtime) -> AccessService:
    """The app's service (`state`: the app's), built on first use in the event loop: no await
    between the check and the store, so no other request can race it."""
    service: AccessService | None = getattr(state, _STATE, None)
    if service is None:
        service = build_access_service(runtime.database, runtime.redis, runtime.settings)
        setattr(state, _STATE, service)
    return service


def close_access_service(app: FastAPI) -> None:
    service: AccessService | None = getattr(app.state, _STATE, None)
    if service is not None:
        service.close()
        setattr(app.state, _STATE, None)


AccessDep = Annotated[AccessService, Depends(access_service)]
