"""Mount the console: its pages, its static files and its HTML error handling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from api.console import analytics, approvals, copilot, customers, dashboard, inbox, login, tasks

# Order matters where paths overlap: /console/tasks/counts before /console/tasks/{id}.
ROUTERS = (login, dashboard, copilot, approvals, tasks, customers, inbox, analytics)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def mount_console(app: FastAPI) -> None:
    for module in ROUTERS:
        app.include_router(module.router, include_in_schema=False)
    static = StaticFiles(directory=str(Path(__file__).parent / "static"))
    app.mount("/console/static", static, name="console-static")

    @app.middleware("http")
    async def console_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/console"):
            response.headers.update(SECURITY_HEADERS)
        return response
