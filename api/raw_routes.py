"""Exact paths answered by raw ASGI endpoints ahead of the app's routing and middleware.

For the few routes whose volume makes FastAPI's per-request work (routing, dependency
injection, body models, the middleware chain) the largest cost; every other request passes
through untouched. Installed outermost, inside only Starlette's server-error handling, so an
unexpected exception still becomes the app's 500 problem answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send


class RawRoutes:
    def __init__(self, app: ASGIApp, *, routes: Mapping[str, ASGIApp]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        await (endpoint or self.app)(scope, receive, send)
