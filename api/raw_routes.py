"""Exact paths answered by raw ASGI endpoints ahead of the app's routing.

For the few routes whose volume makes FastAPI's per-request work (routing, dependency
injection, body models) the largest cost; every other request passes through untouched.
Installed innermost of the app's middleware (so API keys are admitted, metered and branded
as for any route) and outside Starlette's error handling: an endpoint answers its own
errors, and an unexpected exception still becomes the app's 500 problem answer. An endpoint
may hand a request it does not serve to the app (`rest`), e.g. a rare variant of its route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

RawEndpoint = Callable[[Scope, Receive, Send, ASGIApp], Awaitable[None]]
"""(scope, receive, send, rest): `rest` is the app behind, for requests left to it."""


class RawRoutes:
    def __init__(self, app: ASGIApp, *, routes: Mapping[str, RawEndpoint]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
        else:
            await endpoint(scope, receive, send, self.app)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower case), as sent."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` (already read) first, then what `receive` gives."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
