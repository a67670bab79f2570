"""Mount the console: its pages, its static files and its HTML error handling."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

    app.add_middleware(ConsoleSecurityHeaders)


class ConsoleSecurityHeaders:
    """SECURITY_HEADERS on every /console answer. Pure ASGI: other requests pass at the cost
    of one prefix test, where an `@app.middleware("http")` function ran Starlette's
    BaseHTTPMiddleware (a task group and a response stream) on every request of the API."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/console"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
