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

import orjson
from starlette.types import Scope, Send

from api.asgi_responses import send_bytes
from api.raw_routes import KeyedJsonPost
from api.v1.usage import single_answer
from api.v1.usage_writer import app_usage_writer
from db.repositories.metering import KeyOwner

PATH = "/api/v1/usage"
SINGLE_MAX = 16 * 1024


class SingleUsageEndpoint(KeyedJsonPost):
    async def serve(self, scope: Scope, send: Send, owner: KeyOwner, body: bytes) -> bool:
        event = _one_event(body)
        if event is None:
            return False
        writer = app_usage_writer(scope["app"].state, self.runtime)
        content, status = single_answer(await writer.submit((owner.customer_id, event)))
        await send_bytes(send, status, orjson.dumps(content))
        return True


def _one_event(body: bytes) -> dict[str, Any] | None:
    """The event, if the body is one JSON object and not a batch. A body over `SINGLE_MAX`
    bytes is left to the route unparsed: it is a batch (1,000 events parsed twice cost more
    than the whole fast path saves), or an event too large to be the busy case. Parsed by
    the stdlib, not orjson, which reads an integer beyond 64 bits as a float (inexact)."""
    if len(body) > SINGLE_MAX:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or "events" in document:
        return None
    return document
