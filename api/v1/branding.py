"""White-label on customer-facing API answers: every answer to a customer's API key whose
agency has branding carries `X-Moneta-Brand`, and a JSON object gets a `branding` member.

One ASGI middleware over /api/v1, inside the metering middleware (which resolves the key,
so operators and anonymous callers are never branded). Lookups are cached per customer for
`branding_cache_seconds`; a rebrand or an unlinked client shows within that time.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metering.middleware import OWNER_STATE
from api.ttl_cache import Cached, TtlCache
from db.repositories.branding import Branding, branding_for_customer
from db.repositories.metering import KeyOwner
from orchestrator.wiring import Runtime

BRANDED_PREFIX = "/api/v1/"
BRAND_HEADER = b"x-moneta-brand"
_HEADER_SAFE = "".join(c for c in string.punctuation + " " if c not in '%"\\')


class BrandingCache:
    """Customer id -> their branding (or None), each for `ttl` seconds."""

    def __init__(self, lookup: Callable[[int], Branding | None], ttl: float) -> None:
        self._lookup = lookup
        self._entries: TtlCache[int, Branding | None] = TtlCache(ttl)

    def cached(self, customer_id: int) -> Branding | Literal[Cached.MISS] | None:
        return self._entries.cached(customer_id)

    def branding(self, customer_id: int) -> Branding | None:
        return self._entries.get(customer_id, lambda: self._lookup(customer_id))


class BrandingMiddleware:
    def __init__(self, app: ASGIApp, *, cache: BrandingCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = _customer_owner(scope)
        if owner is None:
            await self.app(scope, receive, send)
            return
        cached = self.cache.cached(owner.customer_id)
        if isinstance(cached, Cached):  # a thread hop only when the cache must look it up
            branding = await run_in_threadpool(self.cache.branding, owner.customer_id)
        else:
            branding = cached
        if branding is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _BrandingSender(send, branding).send)


class _BrandingSender:
    """Holds back a JSON answer's start until its body is complete, then brands both."""

    def __init__(self, send: Send, branding: Branding) -> None:
        self._send = send
        self._branding = branding
        self._start: Message | None = None
        self._body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if _is_json(message):
                self._start = message
                return
            await self._send({**message, "headers": [*message.get("headers", []), self._brand()]})
        elif message["type"] == "http.response.body" and self._start is not None:
            self._body += message.get("body", b"")
            if not message.get("more_body", False):
                await self._flush()
        else:
            await self._send(message)

    async def _flush(self) -> None:
        assert self._start is not None
        body = bytes(self._body)
        headers = [*self._start.get("headers", []), self._brand()]
        branded = _with_branding(body, self._branding)
        if branded is not None:
            body = branded
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
        await self._send({**self._start, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})

    def _brand(self) -> tuple[bytes, bytes]:
        """`X-Moneta-Brand: <name>`, percent-encoded where a header may not carry it."""
        return BRAND_HEADER, quote(self._branding.name, safe=_HEADER_SAFE).encode()


def _customer_owner(scope: Scope) -> KeyOwner | None:
    if scope["type"] != "http" or not scope["path"].startswith(BRANDED_PREFIX):
        return None
    owner: KeyOwner | None = (scope.get("state") or {}).get(OWNER_STATE)
    return owner


def _is_json(start: Message) -> bool:
    for name, value in start.get("headers", []):
        if name.lower() == b"content-type":
            return bool(value.split(b";")[0].strip() == b"application/json")
    return False


def _with_branding(body: bytes, branding: Branding) -> bytes | None:
    """The body with `branding` added, or None: not a JSON object, or it names one itself."""
    try:
        document: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or "branding" in document:
        return None
    document["branding"] = branding.public()
    return json.dumps(document, separators=(",", ":")).encode()


def install_branding(app: FastAPI, runtime: Runtime) -> None:
    """Add the middleware; call before the metering middleware is added (it must be inner)."""

    def lookup(customer_id: int) -> Branding | None:
        with runtime.database.transaction() as session:
            return branding_for_customer(session, customer_id)

    cache = BrandingCache(lookup, runtime.settings.branding_cache_seconds)
    app.add_middleware(BrandingMiddleware, cache=cache)
