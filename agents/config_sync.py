"""Create Stripe objects from operator config once per content: the hash decides, ids are kept.

Coupons, promotion codes and tax rates cannot change their terms on Stripe, so a change of
content is a new object. Each object is created and recorded in its own transaction with an
idempotency key of kind, key, content hash and version: a run stopped half-way resumes
where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from agents.catalog.stripe_params import fingerprint
from db.repositories.discounts import (
    count_synced_objects,
    record_synced_object,
    synced_object,
)
from db.session import Database

Outcome = Literal["created", "unchanged"]
Create = Callable[[dict[str, Any], str], dict[str, Any]]  # (params, idempotency key) -> object


@dataclass(frozen=True)
class Synced:
    kind: str
    key: str
    outcome: Outcome
    stripe_id: str


@dataclass
class SyncReport:
    items: list[Synced] = field(default_factory=list)

    def created(self) -> list[Synced]:
        return [item for item in self.items if item.outcome == "created"]


def sync_object(
    database: Database, kind: str, key: str, params: dict[str, Any], create: Create
) -> Synced:
    """The Stripe object for `params`: the active recorded one if its content was synced,
    else one `create` makes (content changed, new, or changed back to an earlier version)."""
    content_hash = fingerprint(params)
    with database.transaction() as session:
        known = synced_object(session, kind, key, content_hash)
        if known is not None and known.active:
            return Synced(kind, key, "unchanged", known.stripe_id)
        # The versions made so far tell a rerun after a crash (same key: Stripe replays)
        # from a change back to earlier content (a new request).
        version = count_synced_objects(session, kind, key)
        obj = create(params, f"{kind}:{key}:{content_hash}:{version}")
        record_synced_object(
            session, kind=kind, key=key, content_hash=content_hash, stripe_id=obj["id"]
        )
    return Synced(kind, key, "created", obj["id"])


def content_id(key: str, params: dict[str, Any]) -> str:
    """A Stripe id chosen by us (coupons take one): the key and a short content hash."""
    return f"{key}-{fingerprint(params)[:10]}"
