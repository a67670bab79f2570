"""The FastAPI application: routers over one runtime, business errors as JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from api import health, webhooks
from api.console.errors import console_error
from api.console.router import mount_console
from api.metrics import WebhookCounters
from api.ops import analytics as ops_analytics
from api.ops import approvals as ops_approvals
from api.ops import copilot as ops_copilot
from api.ops import customers as ops_customers
from api.ops import inbox as ops_inbox
from api.ops import tasks as ops_tasks
from core.errors import MonetaError
from core.settings import Settings, get_settings
from orchestrator.wiring import Runtime, build_runtime


async def _moneta_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MonetaError)
    if request.url.path.startswith("/console"):
        return console_error(request, exc)
    return JSONResponse({"code": exc.code, "detail": exc.message}, status_code=exc.status_code)


def create_app(runtime: Runtime, *, close_runtime_on_shutdown: bool = False) -> FastAPI:
    """An app serving `runtime`; it closes the runtime at shutdown only if told it owns it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if close_runtime_on_shutdown:
            runtime.close()

    app = FastAPI(title="Moneta", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.webhook_counters = WebhookCounters()
    app.add_exception_handler(MonetaError, _moneta_error)
    app.include_router(health.router)
    app.include_router(webhooks.router)
    for ops in (ops_approvals, ops_tasks, ops_customers, ops_inbox, ops_analytics, ops_copilot):
        app.include_router(ops.router)
    mount_console(app)
    return app


def app_from_settings(settings: Settings) -> FastAPI:
    """An app with its own runtime built from `settings` (closed when the server stops)."""
    return create_app(build_runtime(settings), close_runtime_on_shutdown=True)


def app_from_env() -> FastAPI:
    """uvicorn factory: `uvicorn api.app:app_from_env --factory`."""
    return app_from_settings(get_settings())
