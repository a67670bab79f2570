"""Who is calling and may they: an API key resolved (cached briefly) and its rate decided."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from agents.metering.meters import MeterCatalog
from api.metering.rate_limit import GcraRateLimiter, RateDecision
from db.repositories.metering import KeyOwner
from db.session import Database
from orchestrator.access.api_keys import authenticate_api_key
from orchestrator.access.credentials import digest

_MAX_CACHED = 50_000


@dataclass(frozen=True)
class Admission:
    owner: KeyOwner | None  # None: the key is unknown or revoked
    decision: RateDecision | None = None  # None when there is no owner


class KeyCache:
    """Key digest -> owner (or None), each for `ttl` seconds: a revoke takes effect within it."""

    def __init__(self, lookup: Callable[[str], KeyOwner | None], ttl: float) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._entries: dict[str, tuple[KeyOwner | None, float]] = {}
        self._lock = threading.Lock()

    def owner(self, secret: str) -> KeyOwner | None:
        fingerprint = digest(secret)
        now = time.monotonic()
        cached = self._entries.get(fingerprint)
        if cached is not None and cached[1] > now:
            return cached[0]
        owner = self._lookup(secret)
        with self._lock:
            if len(self._entries) >= _MAX_CACHED:
                self._entries.clear()
            self._entries[fingerprint] = (owner, now + self._ttl)
        return owner


class ApiAdmission:
    """Resolves the key and asks the rate limiter, with the owner's plan's limit."""

    def __init__(
        self, keys: KeyCache, limiter: GcraRateLimiter, meters: Callable[[], MeterCatalog]
    ) -> None:
        self._keys = keys
        self._limiter = limiter
        self._meters = meters

    def admit(self, secret: str) -> Admission:
        owner = self._keys.owner(secret)
        if owner is None:
            return Admission(None)
        limit = self._meters().rate_limit_for(owner.plan)
        return Admission(owner, self._limiter.decide(owner.customer_id, limit))


def database_key_lookup(database: Database) -> Callable[[str], KeyOwner | None]:
    """Look keys up in Moneta's `api_keys` table."""

    def lookup(secret: str) -> KeyOwner | None:
        with database.transaction() as session:
            return authenticate_api_key(session, secret)

    return lookup
