"""Liveness, readiness (database and Redis reachable) and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from api.dependencies import CountersDep, RuntimeDep
from api.metrics import CONTENT_TYPE, render_metrics
from orchestrator.wiring import Runtime

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers: nothing else is checked, so a restart is only forced when hung."""
    return {"status": "ok"}


def _check_database(runtime: Runtime) -> str:
    try:
        with runtime.database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("readiness: database unreachable: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_redis(runtime: Runtime) -> str:
    try:
        runtime.transport.ping()
    except Exception as exc:
        log.warning("readiness: Redis unreachable: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


@router.get("/readyz")
def readyz(runtime: RuntimeDep) -> JSONResponse:
    """200 when the database and Redis both answer; 503 naming the one that did not."""
    checks = {"database": _check_database(runtime), "redis": _check_redis(runtime)}
    ready = all(result == "ok" for result in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
def metrics(
    runtime: RuntimeDep,
    counters: CountersDep,
) -> Response:
    body = render_metrics(runtime.database, runtime.transport, counters)
    return Response(body, media_type=CONTENT_TYPE)
