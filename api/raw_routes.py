"""Exact paths answered by raw ASGI endpoints ahead of the app's routing.

For the few routes whose volume makes FastAPI's per-request work (routing, dependency
injection, body models) the largest cost; every other request passes through untouched.
Installed innermost of the app's middleware (so API keys are admitted, metered and branded
as for any route) and outside the app's exception handlers: business errors (`MonetaError`)
become problem answers here, as those handlers would make them, and an unexpected exception
still becomes the app's 500 problem answer. An endpoint may hand a request it does not serve
to the app (`rest`), e.g. a rare variant of its route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi_responses import send_problem
from api.metering.middleware import OWNER_STATE
from core.errors import MonetaError
from db.repositories.metering import KeyOwner
from orchestrator.wiring import Runtime

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
            return
        try:
            await endpoint(scope, receive, send, self.app)
        except MonetaError as exc:  # as the app's own handler answers it, which is inside
            await send_problem(send, scope["path"], exc.status_code, exc.code, exc.message)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower case), as sent."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def sends_json(scope: Scope) -> bool:
    """The request's body is declared `application/json` (the routes' own condition)."""
    media_type = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
    return media_type == "application/json"


class BodyTooLarge(MonetaError):
    status_code = 413
    code = "too_large"


async def read_all(scope: Scope, receive: Receive, limit: int | None = None) -> bytes:
    """The whole request body, refused (`BodyTooLarge`) as soon as it is known to exceed
    `limit` bytes; without one, the app's body-size limit around the raw routes applies."""
    declared = header(scope, b"content-length") or ""
    if limit is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body over {limit} bytes")
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: nothing to answer
            raise MonetaError("client disconnected mid-body", code="disconnected")
        body += message.get("body", b"")
        if limit is not None and len(body) > limit:  # no or lying Content-Length
            raise BodyTooLarge(f"body over {limit} bytes")
        if not message.get("more_body", False):
            return bytes(body)


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


class KeyedJsonPost:
    """A raw endpoint for JSON POSTs from API keys (admitted by the metering middleware).

    `serve` answers from the key's owner and the body, or returns False to leave the request
    to the app's route, body replayed; so does any other method, caller or content type.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send, rest: ASGIApp) -> None:
        owner: KeyOwner | None = (scope.get("state") or {}).get(OWNER_STATE)
        if scope["method"] != "POST" or owner is None or not sends_json(scope):
            await rest(scope, receive, send)
            return
        body = await read_all(scope, receive)
        if not await self.serve(scope, send, owner, body):
            await rest(scope, replaying(body, receive), send)

    async def serve(self, scope: Scope, send: Send, owner: KeyOwner, body: bytes) -> bool:
        raise NotImplementedError
