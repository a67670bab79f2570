"""Who is calling and may they: an API key resolved (cached briefly) and its rate decided."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from agents.metering.meters import MeterCatalog
from api.metering.rate_limit import GcraRateLimiter, RateDecision
from api.ttl_cache import Cached, TtlCache
from db.repositories.metering import KeyOwner
from db.session import Database
from orchestrator.access.api_keys import authenticate_api_key
from orchestrator.access.credentials import digest


class KeyCache:
    """Key digest -> owner (or None), each for `ttl` seconds: a revoke takes effect within it."""

    def __init__(self, lookup: Callable[[str], KeyOwner | None], ttl: float) -> None:
        self._lookup = lookup
        self._entries: TtlCache[str, KeyOwner | None] = TtlCache(ttl)

    def cached(self, secret: str) -> KeyOwner | Literal[Cached.MISS] | None:
        """The owner if known and fresh, without blocking (for the event loop); else MISS."""
        return self._entries.cached(digest(secret))

    def owner(self, secret: str) -> KeyOwner | None:
        """The owner, looked up (blocking) when the cache has none fresh."""
        return self._entries.get(digest(secret), lambda: self._lookup(secret))


class ApiAdmission:
    """Resolves the key and asks the rate limiter, with the owner's plan's limit."""

    def __init__(
        self, keys: KeyCache, limiter: GcraRateLimiter, meters: Callable[[], MeterCatalog]
    ) -> None:
        self._keys = keys
        self._limiter = limiter
        self._meters = meters

    def cached_owner(self, secret: str) -> KeyOwner | Literal[Cached.MISS] | None:
        return self._keys.cached(secret)

    def owner(self, secret: str) -> KeyOwner | None:
        return self._keys.owner(secret)

    async def decide_many(self, owners: list[KeyOwner]) -> list[RateDecision]:
        """Each owner's request against their plan's limit, in one round trip to Redis."""
        meters = self._meters()
        asks = [(owner.customer_id, meters.rate_limit_for(owner.plan)) for owner in owners]
        return await self._limiter.decide_many(asks)


def database_key_lookup(database: Database) -> Callable[[str], KeyOwner | None]:
    """Look keys up in Moneta's `api_keys` table."""

    def lookup(secret: str) -> KeyOwner | None:
        with database.transaction() as session:
            return authenticate_api_key(session, secret)

    return lookup
