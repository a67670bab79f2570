"""Entitlement answers from a cache that provisioning invalidates, so a revoke shows at once.

Each customer has a version counter in Redis that provisioning increments after every commit
that changed their rows. A reader keeps snapshots in process memory tagged with the version
they were read at, and checks the counter (one Redis round trip) before trusting one: a
snapshot loaded while a change was committing carries the old version and is reloaded.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

import redis
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from core.clock import utcnow
from db.models import Entitlement, EntitlementStatus
from db.session import Database

log = logging.getLogger(__name__)

_CHANGED = "moneta_entitlements_changed"
HELD = (EntitlementStatus.ACTIVE, EntitlementStatus.GRACE)


def version_key(prefix: str, customer_id: int) -> str:
    return f"{prefix}:entitlements:{customer_id}:version"


@dataclass(frozen=True)
class EntitlementSnapshot:
    """What a customer holds now: feature -> limit (None: on, or unlimited), and their plan."""

    customer_id: int
    plan: str | None
    limits: dict[str, int | None]

    def has_feature(self, feature: str) -> bool:
        if feature not in self.limits:
            return False
        limit = self.limits[feature]
        return limit is None or limit > 0

    def limit(self, feature: str) -> int | None:
        return self.limits.get(feature)


@dataclass(frozen=True)
class EntitlementCheck:
    allowed: bool
    feature: str
    limit: int | None
    plan: str | None


def load_snapshot(session: Session, customer_id: int) -> EntitlementSnapshot:
    """The customer's held entitlements, straight from the rows (grace that ended excluded)."""
    now = utcnow()
    rows = session.execute(
        select(Entitlement.feature, Entitlement.limit_value, Entitlement.plan).where(
            Entitlement.customer_id == customer_id,
            Entitlement.status.in_(HELD),
            or_(Entitlement.grace_until.is_(None), Entitlement.grace_until > now),
        )
    ).all()
    plans = sorted({plan for _, _, plan in rows if plan})
    return EntitlementSnapshot(
        customer_id, plans[0] if plans else None, {f: limit for f, limit, _ in rows}
    )


class EntitlementCache:
    """In-process snapshots, validated against the Redis version counter on every read."""

    def __init__(
        self, database: Database, client: redis.Redis, prefix: str, *, capacity: int = 10_000
    ) -> None:
        self.database = database
        self.client = client
        self.prefix = prefix
        self.capacity = capacity
        self._entries: OrderedDict[int, tuple[bytes | None, EntitlementSnapshot]] = OrderedDict()
        self._lock = threading.Lock()

    def snapshot(self, customer_id: int) -> EntitlementSnapshot:
        return self.snapshots([customer_id])[customer_id]

    def snapshots(self, customer_ids: Collection[int]) -> dict[int, EntitlementSnapshot]:
        """Each customer's snapshot: all versions in one Redis round trip (a batch of access
        checks asks together), then what changed loaded in one transaction."""
        wanted = list(dict.fromkeys(customer_ids))
        versions = cast(
            list[bytes | None], self.client.mget([version_key(self.prefix, c) for c in wanted])
        )
        found: dict[int, EntitlementSnapshot] = {}
        with self._lock:
            for customer_id, version in zip(wanted, versions, strict=True):
                cached = self._entries.get(customer_id)
                if cached is not None and cached[0] == version:
                    self._entries.move_to_end(customer_id)
                    found[customer_id] = cached[1]
        stale = [(c, v) for c, v in zip(wanted, versions, strict=True) if c not in found]
        if not stale:
            return found
        with self.database.transaction() as session:
            fresh = [(c, v, load_snapshot(session, c)) for c, v in stale]
        with self._lock:
            for customer_id, version, snapshot in fresh:
                self._entries[customer_id] = (version, snapshot)
                self._entries.move_to_end(customer_id)
                found[customer_id] = snapshot
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return found

    def has_feature(self, customer_id: int, feature: str) -> bool:
        return self.snapshot(customer_id).has_feature(feature)

    def check(self, customer_id: int, feature: str) -> EntitlementCheck:
        snap = self.snapshot(customer_id)
        return EntitlementCheck(snap.has_feature(feature), feature, snap.limit(feature), snap.plan)


def invalidate_after_commit(
    session: Session, client: redis.Redis | None, prefix: str, customer_id: int
) -> None:
    """Bump the customer's version once `session` commits (never before: readers would
    re-cache the rows as they were)."""
    if client is not None:
        session.info.setdefault(_CHANGED, []).append((client, prefix, customer_id))


@event.listens_for(Session, "after_commit")
def _bump_versions(session: Session) -> None:
    changed: list[tuple[Any, str, int]] = session.info.pop(_CHANGED, [])
    for client, prefix, customer_id in changed:
        try:
            client.incr(version_key(prefix, customer_id))
        except redis.RedisError:  # committed; readers keep the old answer until Redis is back
            log.error("entitlement version of customer %s not bumped", customer_id, exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_versions(session: Session) -> None:
    session.info.pop(_CHANGED, None)
