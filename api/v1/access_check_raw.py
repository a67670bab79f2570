"""`POST /api/v1/access/check` from an API key for its own customer, without FastAPI's routing.

A customer's product asks before serving each of its users' requests, so this is the route
whose volume matters. The body is validated with the route's own model; anything this path
does not serve (an operator's token, a key naming a customer, a body the model refuses) goes
to the FastAPI route (`api.v1.access`) with the body replayed, which answers it (or its 422)
exactly as before.
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope, Send

from api.asgi_responses import send_json
from api.raw_routes import KeyedJsonPost
from api.v1.access import CheckBody, check_answer
from api.v1.access_services import service_of
from db.repositories.metering import KeyOwner

PATH = "/api/v1/access/check"


class AccessCheckEndpoint(KeyedJsonPost):
    async def serve(self, scope: Scope, send: Send, owner: KeyOwner, body: bytes) -> bool:
        try:
            ask = CheckBody.model_validate_json(body)
        except ValidationError:
            return False
        if ask.customer is not None:
            return False
        access = service_of(scope["app"].state, self.runtime)
        result = await run_in_threadpool(
            access.check, owner.customer_id, ask.assets, ask.action, ask.idempotency_key
        )
        await send_json(send, 200, check_answer(result))
        return True
