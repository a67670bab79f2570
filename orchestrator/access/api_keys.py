"""Per-customer API keys: created (shown once), listed, revoked; only the hash is stored.

A key reads `mck_<8 hex>_<secret>`: "moneta customer key", so a leaked key is recognisable
in a scan; the middle part is the public prefix shown in listings.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.clock import utcnow
from core.errors import InvalidInput, NotFound
from db.audit import record_audit
from db.models import ApiKey, Customer
from db.repositories import metering as repo
from orchestrator.access.credentials import digest

KEY_SCHEME = "mck"
MAX_LABEL = 100
# The metric API calls are metered under; its grant row's plan sets the rate limit.
API_CALLS = "api_calls"


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str  # the whole key: returned once, never stored


def looks_like_api_key(secret: str) -> bool:
    return secret.startswith(f"{KEY_SCHEME}_")


def create_api_key(
    session: Session,
    customer_id: int,
    *,
    actor: str,
    label: str | None = None,
    origin: str | None = None,
) -> NewApiKey:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.deleted_at is not None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    if label is not None and len(label) > MAX_LABEL:
        raise InvalidInput(f"a label has at most {MAX_LABEL} characters", code="bad_label")
    prefix = f"{KEY_SCHEME}_{secrets.token_hex(4)}"
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        customer_id=customer_id,
        prefix=prefix,
        key_hash=digest(secret),
        label=label,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="api_key.created",
        subject_type="customer",
        subject_id=customer_id,
        origin=origin,
        data={"prefix": prefix, "label": label},
    )
    return NewApiKey(key, secret)


def list_api_keys(session: Session, customer_id: int) -> Sequence[ApiKey]:
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    return repo.keys_of(session, customer_id)


def revoke_api_key(
    session: Session, prefix: str, *, actor: str, origin: str | None = None
) -> ApiKey:
    """Revoke the key; revoking a revoked key changes nothing. Caches forget it within seconds."""
    key = repo.key_by_prefix(session, prefix.strip())
    if key is None:
        raise NotFound(f"no API key {prefix!r}", code="unknown_api_key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record_audit(
            session,
            actor=actor,
            action="api_key.revoked",
            subject_type="customer",
            subject_id=key.customer_id,
            origin=origin,
            data={"prefix": key.prefix},
        )
    return key


def authenticate_api_key(session: Session, secret: str) -> repo.KeyOwner | None:
    """The owner of an active key (and the plan its calls are limited by), or None."""
    if not looks_like_api_key(secret):
        return None
    return repo.active_key_owner(session, digest(secret), API_CALLS)


def api_key_view(key: ApiKey) -> dict[str, object]:
    return {
        "prefix": key.prefix,
        "customer_id": key.customer_id,
        "label": key.label,
        "created_by": key.created_by,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "status": "revoked" if key.revoked_at else "active",
    }
