"""`POST /api/v1/access/check` from an API key for its own customer, without FastAPI's routing.

A customer's product asks before serving each of its users' requests, so this is the route
whose volume matters. The body is validated with the route's own model; anything this path
does not serve (an operator's token, a key naming a customer, a body the model refuses) goes
to the FastAPI route (`api.v1.access`) with the body replayed, which answers it (or its 422)
exactly as before. Checks that arrive together are answered together (`check_many`: one
thread hop, one balance read, one Redis round trip and one wallet batch for all of them).
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.types import Scope, Send

from agents.access.service import AccessResult, AccessService, CheckRequest
from api.asgi_responses import send_json
from api.group_commit import GroupCommit
from api.raw_routes import KeyedJsonPost
from api.v1.access import CheckBody, check_answer
from api.v1.access_services import service_of
from db.repositories.metering import KeyOwner
from orchestrator.wiring import Runtime

PATH = "/api/v1/access/check"

Checks = GroupCommit[CheckRequest, AccessResult | Exception]


class AccessCheckEndpoint(KeyedJsonPost):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self._checks: tuple[AccessService, Checks] | None = None

    async def serve(self, scope: Scope, send: Send, owner: KeyOwner, body: bytes) -> bool:
        try:
            ask = CheckBody.model_validate_json(body)
        except ValidationError:
            return False
        if ask.customer is not None:
            return False
        checks = self._batcher(service_of(scope["app"].state, self.runtime))
        result = await checks.submit(
            CheckRequest(owner.customer_id, ask.assets, ask.action, ask.idempotency_key)
        )
        if isinstance(result, Exception):
            raise result
        await send_json(send, 200, check_answer(result))
        return True

    def _batcher(self, access: AccessService) -> Checks:
        """The batcher of the app's service (made again only if the service was)."""
        if self._checks is None or self._checks[0] is not access:
            self._checks = (access, GroupCommit(access.check_many))
        return self._checks[1]
