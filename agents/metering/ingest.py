"""Record usage: validate each event, resolve its customer, store the batch in one statement.

Set-based on purpose: one query resolves every customer named in the batch and one
INSERT ... ON CONFLICT DO NOTHING stores every event, so a batch of 1,000 costs two round trips
(`record_reports`); on PostgreSQL both are one statement in autocommit, one round trip in all
(`record_reports_at_once`). The rules of ownership and duplicates are `_owners`, `_firsts`
and `_outcomes`, for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from agents.metering.events import Rejection, UsageInput, parse_events
from agents.metering.meters import MeterCatalog
from core.clock import utcnow
from db.autocommit import AsyncConnection
from db.repositories.metering import (
    insert_resolved_usage_events,
    insert_usage_events,
    resolve_customers,
)

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


Report = tuple[int | None, Any]
"""(the reporting caller's customer, None for a trusted caller naming customers; the raw event)"""


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
    reports = [(caller_customer_id, raw) for raw in raw_events]
    return IngestResult(record_reports(session, meters, reports, now=now))


def record_reports(
    session: Session, meters: MeterCatalog, reports: list[Report], *, now: datetime | None = None
) -> list[EventOutcome]:
    """Store the valid event of every report, each checked against its own caller: the
    portable path (two statements in the session's transaction). Outcome i is report i's."""
    now = now or utcnow()
    parsed, rejections = parse_events([raw for _caller, raw in reports], meters, now)
    named = {event.customer for event in parsed if event.customer is not None}
    known = resolve_customers(session, named) if named else {}
    owners, refused = _owners(parsed, reports, known)
    firsts, repeats = _firsts(parsed, owners)
    inserted = insert_usage_events(session, [_row(e, owners[e.index], now) for e in firsts])
    return _outcomes(rejections + refused, firsts, repeats, owners, inserted)


async def record_reports_at_once(
    connection: AsyncConnection,
    meters: MeterCatalog,
    reports: list[Report],
    *,
    now: datetime | None = None,
) -> list[EventOutcome]:
    """`record_reports` on PostgreSQL in one statement on an autocommit connection, awaited
    in the event loop: customers resolved, events inserted and each event's owner returned
    in one round trip, committed when it returns (no BEGIN, no COMMIT). The statement keeps
    to `_owners` and `_firsts` in what it inserts; the outcomes are classified by them, as
    on the portable path."""
    now = now or utcnow()
    parsed, rejections = parse_events([raw for _caller, raw in reports], meters, now)
    found, added = await insert_resolved_usage_events(
        connection,
        [
            {
                "position": event.index,
                "caller": reports[event.index][0],
                "customer": event.customer,
                "metric": event.metric,
                "quantity": event.quantity,
                "occurred_at": event.occurred_at,
                "idempotency_key": event.idempotency_key,
                "properties": event.properties,
            }
            for event in parsed
        ],
        received_at=now,
    )
    known = {
        event.customer: found[event.index]
        for event in parsed
        if event.customer is not None and event.index in found
    }
    owners, refused = _owners(parsed, reports, known)
    firsts, repeats = _firsts(parsed, owners)
    inserted = {(owners[e.index], e.idempotency_key) for e in firsts if e.index in added}
    return _outcomes(rejections + refused, firsts, repeats, owners, inserted)


def _owners(
    events: list[UsageInput], reports: list[Report], known: dict[str, int]
) -> tuple[dict[int, int], list[Rejection]]:
    """Event index -> customer id, and the events whose customer is unknown or not the caller.

    `known`: the live customers of the references named, as `resolve_customers` finds them.
    """
    owners: dict[int, int] = {}
    refused: list[Rejection] = []
    for event in events:
        caller = reports[event.index][0]
        if event.customer is None:
            if caller is None:
                refused.append(_refusal(event, "missing_customer", "customer is required"))
                continue
            owners[event.index] = caller
            continue
        customer_id = known.get(event.customer)
        if customer_id is None:
            refused.append(_refusal(event, "unknown_customer", f"no customer {event.customer!r}"))
        elif caller is not None and customer_id != caller:
            refused.append(
                _refusal(event, "forbidden_customer", "an API key reports its own customer only")
            )
        else:
            owners[event.index] = customer_id
    return owners, refused


def _firsts(
    events: list[UsageInput], owners: dict[int, int]
) -> tuple[list[UsageInput], list[UsageInput]]:
    """The first event of each (customer, key), to store; later repeats are duplicates."""
    firsts: list[UsageInput] = []
    repeats: list[UsageInput] = []
    seen: set[tuple[int, str]] = set()
    for event in events:
        owner = owners.get(event.index)
        if owner is None:
            continue
        pair = (owner, event.idempotency_key)
        if pair in seen:
            repeats.append(event)
        else:
            seen.add(pair)
            firsts.append(event)
    return firsts, repeats


def _row(event: UsageInput, owner: int, now: datetime) -> dict[str, Any]:
    return {
        "customer_id": owner,
        "metric": event.metric,
        "quantity": event.quantity,
        "occurred_at": event.occurred_at,
        "idempotency_key": event.idempotency_key,
        "properties": event.properties,
        "received_at": now,
    }


def _outcomes(
    rejections: list[Rejection],
    firsts: list[UsageInput],
    repeats: list[UsageInput],
    owners: dict[int, int],
    inserted: set[tuple[int, str]],
) -> list[EventOutcome]:
    """Every event's outcome, in index order: a first of its (customer, key) is accepted if
    the insert added it (a duplicate of an earlier request if not), a repeat a duplicate."""
    outcomes = [_rejected(rejection) for rejection in rejections]
    for event in firsts:
        pair = (owners[event.index], event.idempotency_key)
        status = ACCEPTED if pair in inserted else DUPLICATE
        outcomes.append(EventOutcome(event.index, status, event.idempotency_key))
    outcomes.extend(EventOutcome(e.index, DUPLICATE, e.idempotency_key) for e in repeats)
    return sorted(outcomes, key=lambda outcome: outcome.index)


def _refusal(event: UsageInput, code: str, detail: str) -> Rejection:
    return Rejection(event.index, code, detail, event.idempotency_key)


def _rejected(rejection: Rejection) -> EventOutcome:
    return EventOutcome(
        rejection.index, REJECTED, rejection.idempotency_key, rejection.code, rejection.detail
    )
