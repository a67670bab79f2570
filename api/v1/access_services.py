"""The access service of this app: built on first use, closed (telemetry flushed) at shutdown."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from agents.access.service import AccessService, build_access_service
from api.dependencies import current_runtime

_STATE = "access_service"
_lock = threading.Lock()


def access_service(request: Request) -> AccessService:
    state = request.app.state
    service: AccessService | None = getattr(state, _STATE, None)
    if service is None:
        with _lock:
            service = getattr(state, _STATE, None)
            if service is None:
                runtime = current_runtime(request)
                service = build_access_service(runtime.database, runtime.redis, runtime.settings)
                setattr(state, _STATE, service)
    return service


def close_access_service(app: FastAPI) -> None:
    service: AccessService | None = getattr(app.state, _STATE, None)
    if service is not None:
        service.close()
        setattr(app.state, _STATE, None)


AccessDep = Annotated[AccessService, Depends(access_service)]
