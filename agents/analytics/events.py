"""`analytics.record`: validate a business event and store it once per dedupe key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.errors import PermanentError
from db.repositories import analytics as repo


def event_values(payload: dict[str, Any]) -> dict[str, Any]:
    """The analytics_events row for `payload`; a malformed payload can never succeed."""
    dedupe_key, event_type = payload.get("dedupe_key"), payload.get("type")
    if not isinstance(dedupe_key, str) or not dedupe_key:
        raise PermanentError("analytics.record needs a non-empty dedupe_key")
    if not isinstance(event_type, str) or not event_type:
        raise PermanentError("analytics.record needs a non-empty type")
    customer_id = payload.get("customer_id")
    if customer_id is not None and (
        isinstance(customer_id, bool) or not isinstance(customer_id, int)
    ):
        raise PermanentError(f"analytics.record customer_id must be an integer: {customer_id!r}")
    amount, currency = payload.get("amount"), payload.get("currency")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        raise PermanentError(f"analytics.record amount must be integer minor units: {amount!r}")
    if (amount is None) != (currency is None):
        raise PermanentError("analytics.record amount and currency go together")
    data = payload.get("data") or {}
    if not isinstance(data, dict):
        raise PermanentError("analytics.record data must be an object")
    return {
        "dedupe_key": dedupe_key,
        "type": event_type,
        "customer_id": customer_id,
        "occurred_at": _aware(payload.get("occurred_at")),
        "amount": amount,
        "currency": currency.lower() if isinstance(currency, str) else None,
        "data": data,
    }


def _aware(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise PermanentError(f"analytics.record occurred_at is not ISO 8601: {value!r}") from None
    if moment.tzinfo is None:
        raise PermanentError(f"analytics.record occurred_at needs a time zone: {value!r}")
    return moment


def record_event(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    values = event_values(payload)
    return {"dedupe_key": values["dedupe_key"], "recorded": repo.record_event(session, values)}
