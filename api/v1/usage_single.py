"""`POST /api/v1/usage` with one event from an API key, answered without FastAPI's routing.

The busiest variant of the route (a product reporting each event as it happens) skips the
router, dependency injection and body model; the metering middleware has already admitted
the key. Everything else (a batch, an operator's token, a body that is not one JSON object)
goes to the FastAPI route (`api.v1.usage`) with the body replayed, so the two cannot answer
differently: this path only takes requests that route would answer from `single_answer`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from api.asgi_responses import send_json
from api.metering.middleware import OWNER_STATE
from api.raw_routes import header, replaying
from api.v1.usage import single_answer
from api.v1.usage_writer import app_usage_writer
from db.repositories.metering import KeyOwner
from orchestrator.wiring import Runtime

PATH = "/api/v1/usage"


class SingleUsageEndpoint:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send, rest: ASGIApp) -> None:
        owner: KeyOwner | None = (scope.get("state") or {}).get(OWNER_STATE)
        if scope["method"] != "POST" or owner is None or not _json(scope):
            await rest(scope, receive, send)
            return
        body = await _body(receive)
        event = _one_event(body)
        if event is None:
            await rest(scope, replaying(body, receive), send)
            return
        writer = app_usage_writer(scope["app"].state, self.runtime)
        content, status = single_answer(await writer.submit((owner.customer_id, event)))
        await send_json(send, status, content)


def _json(scope: Scope) -> bool:
    media_type = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
    return media_type == "application/json"


async def _body(receive: Receive) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(body)


def _one_event(body: bytes) -> dict[str, Any] | None:
    """The event, if the body is one JSON object and not a batch."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or "events" in document:
        return None
    return document
