"""Record usage: validate each event, resolve its customer, store the batch in one statement.

Set-based on purpose: one query resolves every customer named in the batch and one
INSERT ... ON CONFLICT DO NOTHING stores every event, so a batch of 1,000 costs two round trips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from agents.metering.events import Rejection, UsageInput, parse_events
from agents.metering.meters import MeterCatalog
from core.clock import utcnow
from db.repositories.metering import insert_usage_events, resolve_customers

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REJECTED = "rejected"


@dataclass(frozen=True)
class EventOutcome:
    index: int
    status: str
    idempotency_key: str | None
    code: str | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        found = {
            "index": self.index,
            "status": self.status,
            "idempotency_key": self.idempotency_key,
        }
        if self.code:
            found.update(code=self.code, detail=self.detail)
        return found


@dataclass(frozen=True)
class IngestResult:
    outcomes: list[EventOutcome]

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def rejected(self) -> list[EventOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == REJECTED]

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.count(ACCEPTED),
            "duplicates": self.count(DUPLICATE),
            "rejected": [outcome.as_dict() for outcome in self.rejected],
            "events": [outcome.as_dict() for outcome in self.outcomes],
        }


def record_usage(
    session: Session,
    meters: MeterCatalog,
    raw_events: list[Any],
    *,
    caller_customer_id: int | None,
    now: datetime | None = None,
) -> IngestResult:
    """Store the valid events of `raw_events`; a caller with a customer may only report its own.

    `caller_customer_id` None means a trusted caller (operator, CLI) naming customers itself.
    """
    now = now or utcnow()
    parsed, rejections = parse_events(raw_events, meters, now)
    owners, refused = _owners(session, parsed, caller_customer_id)
    rejections.extend(refused)
    rows, first_of_key, repeats = _rows(parsed, owners, now)
    inserted = insert_usage_events(session, rows)
    outcomes = [_rejected(rejection) for rejection in rejections]
    for event in first_of_key:
        pair = (owners[event.index], event.idempotency_key)
        status = ACCEPTED if pair in inserted else DUPLICATE
        outcomes.append(EventOutcome(event.index, status, event.idempotency_key))
    outcomes.extend(EventOutcome(e.index, DUPLICATE, e.idempotency_key) for e in repeats)
    return IngestResult(sorted(outcomes, key=lambda outcome: outcome.index))


def _owners(
    session: Session, events: list[UsageInput], caller_customer_id: int | None
) -> tuple[dict[int, int], list[Rejection]]:
    """Event index -> customer id, and the events whose customer is unknown or not the caller."""
    named = {event.customer for event in events if event.customer is not None}
    known = resolve_customers(session, named) if named else {}
    owners: dict[int, int] = {}
    refused: list[Rejection] = []
    for event in events:
        if event.customer is None:
            if caller_customer_id is None:
                refused.append(_refusal(event, "missing_customer", "customer is required"))
                continue
            owners[event.index] = caller_customer_id
            continue
        customer_id = known.get(event.customer)
        if customer_id is None:
            refused.append(_refusal(event, "unknown_customer", f"no customer {event.customer!r}"))
        elif caller_customer_id is not None and customer_id != caller_customer_id:
            refused.append(
                _refusal(event, "forbidden_customer", "an API key reports its own customer only")
            )
        else:
            owners[event.index] = customer_id
    return owners, refused


def _rows(
    events: list[UsageInput], owners: dict[int, int], now: datetime
) -> tuple[list[dict[str, Any]], list[UsageInput], list[UsageInput]]:
    """Insert rows for the first event of each (customer, key); later repeats are duplicates."""
    rows: list[dict[str, Any]] = []
    firsts: list[UsageInput] = []
    repeats: list[UsageInput] = []
    seen: set[tuple[int, str]] = set()
    for event in events:
        if event.index not in owners:
            continue
        pair = (owners[event.index], event.idempotency_key)
        if pair in seen:
            repeats.append(event)
            continue
        seen.add(pair)
        firsts.append(event)
        rows.append(
            {
                "customer_id": pair[0],
                "metric": event.metric,
                "quantity": event.quantity,
                "occurred_at": event.occurred_at,
                "idempotency_key": event.idempotency_key,
                "properties": event.properties,
                "received_at": now,
            }
        )
    return rows, firsts, repeats


def _refusal(event: UsageInput, code: str, detail: str) -> Rejection:
    return Rejection(event.index, code, detail, event.idempotency_key)


def _rejected(rejection: Rejection) -> EventOutcome:
    return EventOutcome(
        rejection.index, REJECTED, rejection.idempotency_key, rejection.code, rejection.detail
    )
