"""The ASGI middleware: attribute each call to its API key, rate-limit it, count successes.

Add it to any Starlette or FastAPI app:

    app.add_middleware(ApiUsageMiddleware, admission=..., recorder=..., prefixes=("/api/",))

Requests without an API key pass untouched (the route decides whether it needs one). A key
that is unknown or revoked gets 401; one over its plan's rate gets 429 with Retry-After.
Every answer to a keyed request carries X-RateLimit-Limit/Remaining/Reset. Only 2xx and 3xx
answers are counted, and health, metrics and docs paths are never metered.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi_responses import send_problem
from api.group_commit import GroupCommit
from api.metering.admission import ApiAdmission
from api.metering.call_buffer import ApiCallRecorder
from api.metering.rate_limit import RateDecision
from api.ttl_cache import Cached
from db.repositories.metering import KeyOwner
from orchestrator.access.api_keys import looks_like_api_key

SKIPPED_PATHS = ("/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json")
API_KEY_HEADER = b"x-api-key"
OWNER_STATE = "api_key_owner"


class ApiUsageMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        admission: ApiAdmission,
        recorder: ApiCallRecorder,
        prefixes: Iterable[str] = ("/",),
        skipped: Iterable[str] = SKIPPED_PATHS,
    ) -> None:
        self.app = app
        self.admission = admission
        self.recorder = recorder
        self.prefixes = tuple(prefixes)
        self.skipped = tuple(skipped)
        self._skipped_trees = tuple(f"{s}/" for s in self.skipped)
        # Concurrent requests' rate decisions, pipelined together to Redis from the loop.
        self._decisions: GroupCommit[KeyOwner, RateDecision] = GroupCommit.in_loop(
            admission.decide_many
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._flushing_at_shutdown(receive), send)
            return
        secret = _api_key(scope) if scope["type"] == "http" and self._metered(scope) else None
        if secret is None:
            await self.app(scope, receive, send)
            return
        cached = self.admission.cached_owner(secret)
        if isinstance(cached, Cached):  # only a key not seen for a while costs a thread hop
            owner = await run_in_threadpool(self.admission.owner, secret)
        else:
            owner = cached
        if owner is None:
            detail = "unknown or revoked API key"
            await send_problem(send, scope["path"], 401, "unauthorized", detail)
            return
        decision = await self._decisions.submit(owner)
        headers = decision.headers()
        if not decision.admitted:
            detail = f"rate limit reached; retry in {headers['Retry-After']}s"
            await send_problem(send, scope["path"], 429, "rate_limited", detail, headers)
            return
        scope.setdefault("state", {})[OWNER_STATE] = owner
        await self._call_and_count(scope, receive, send, owner, headers)

    async def _call_and_count(
        self, scope: Scope, receive: Receive, send: Send, owner: KeyOwner, headers: dict[str, str]
    ) -> None:
        extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if 200 <= status < 400:
            self.recorder.add(owner.customer_id)

    def _metered(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path in self.skipped or path.startswith(self._skipped_trees):
            return False
        return path.startswith(self.prefixes)

    def _flushing_at_shutdown(self, receive: Receive) -> Receive:
        """Write the buffered counts before the app's own shutdown closes the database."""

        async def receive_and_flush() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await run_in_threadpool(self.recorder.close)
            return message

        return receive_and_flush


def _api_key(scope: Scope) -> str | None:
    """The key from `X-API-Key`, or a bearer token that is an API key (not an operator's)."""
    for name, value in scope["headers"]:
        if name == API_KEY_HEADER:
            return str(value.decode("latin-1").strip()) or None
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and looks_like_api_key(token.strip()):
                return token.strip()
    return None
