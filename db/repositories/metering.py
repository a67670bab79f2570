"""Queries behind metering: bulk event inserts, period totals, limits, API keys."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import (
    ColumnElement,
    Insert,
    Table,
    distinct,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from db.autocommit import AsyncConnection
from db.models import ApiKey, Customer, Entitlement, UsageEvent
from db.statements import json_rows

ZERO = Decimal(0)


def resolve_customers(session: Session, references: Collection[str]) -> dict[str, int]:
    """Our id or Stripe id (as sent) -> our id, for live customers; unknown ones are left out."""
    ids: dict[int, str] = {}
    stripe_ids: set[str] = set()
    for reference in references:
        customer_id, stripe_id = customer_reference(reference)
        if customer_id is not None:
            ids[customer_id] = reference
        elif stripe_id is not None:
            stripe_ids.add(stripe_id)
    conditions: list[ColumnElement[bool]] = []
    if ids:
        conditions.append(Customer.id.in_(list(ids)))
    if stripe_ids:
        conditions.append(Customer.stripe_customer_id.in_(stripe_ids))
    if not conditions:
        return {}
    rows = session.execute(
        select(Customer.id, Customer.stripe_customer_id).where(
            or_(*conditions), Customer.deleted_at.is_(None)
        )
    ).all()
    found: dict[str, int] = {}
    for customer_id, stripe_id in rows:
        if customer_id in ids:
            found[ids[customer_id]] = customer_id
        if stripe_id in stripe_ids:
            found[stripe_id] = customer_id
    return found


_BIGINT_MAX = 2**63 - 1


def customer_reference(reference: str) -> tuple[int | None, str | None]:
    """How a customer reference names a customer: (our id, None) for its decimal digits,
    (None, Stripe id) for anything else, (None, None) for digits no id of ours is written as
    (leading zeros, beyond BIGINT), which name nobody."""
    if not (reference.isascii() and reference.isdigit()):
        return None, reference
    customer_id = int(reference)
    if str(customer_id) != reference or customer_id > _BIGINT_MAX:
        return None, None
    return customer_id, None


def insert_usage_events(session: Session, rows: Sequence[dict[str, Any]]) -> set[tuple[int, str]]:
    """INSERT ... ON CONFLICT DO NOTHING for all `rows`; the (customer, key) pairs it added.

    Concurrent requests carrying the same key race on the unique constraint, so exactly one
    of them inserts; the others see the pair missing from their result: a duplicate.
    """
    if not rows:
        return set()
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        returned = session.execute(_JSON_INSERT, {"rows": json_rows(rows)})
    else:
        table = UsageEvent.__table__
        assert isinstance(table, Table)  # declared as FromClause; a mapped class's is a Table
        stmt: Insert = sqlite.insert(table).on_conflict_do_nothing()
        # A list of parameter sets: "insertmanyvalues" pages from one cached compilation.
        returned = session.execute(
            stmt.returning(table.c.customer_id, table.c.idempotency_key), list(rows)
        )
    return {(int(customer_id), str(key)) for customer_id, key in returned}


# PostgreSQL: the batch travels as one JSON text parameter, unpacked by json_to_recordset.
# json.dumps is C; psycopg dumped the seven per-column arrays this replaced in Python (a
# third of the in-process CPU of a 1,000-event batch). Multi-row VALUES with 7,000
# placeholders cost more still, to build and to parse. Rows go in sorted by the unique key,
# as `_RESOLVE_AND_INSERT`'s do: concurrent batches wait on each other's keys in one order,
# so they cannot deadlock.
_JSON_INSERT = text(
    """
    INSERT INTO usage_events
        (customer_id, metric, quantity, occurred_at, idempotency_key, properties, received_at)
    SELECT customer_id, metric, quantity, occurred_at, idempotency_key,
        COALESCE(properties, '{}'::jsonb), received_at
    FROM json_to_recordset(CAST(:rows AS JSON)) AS batch(
        customer_id BIGINT, metric TEXT, quantity NUMERIC, occurred_at TIMESTAMPTZ,
        idempotency_key TEXT, properties JSONB, received_at TIMESTAMPTZ
    )
    ORDER BY customer_id, idempotency_key
    ON CONFLICT DO NOTHING
    RETURNING customer_id, idempotency_key
    """
)


class ResolvableEvent(TypedDict):
    """A valid event for `insert_resolved_usage_events`; `position` identifies it."""

    position: int
    caller: int | None  # the reporting customer, None for a trusted caller
    customer: str | None  # the customer reference as sent, None: the caller's own
    metric: str
    quantity: Decimal
    occurred_at: datetime
    idempotency_key: str
    properties: dict[str, Any]


async def insert_resolved_usage_events(
    connection: AsyncConnection, events: Sequence[ResolvableEvent], *, received_at: datetime
) -> tuple[dict[int, int], set[int]]:
    """PostgreSQL, on an autocommit connection (`db.autocommit`): resolve the customers and
    insert the events in one statement, one round trip, committed when it returns (and safe
    to repeat: a repeat inserts nothing and finds the same owners). Returns each event's
    owner (by position; absent: its reference names no live customer or it names none and
    has no caller) and the positions whose row the statement added.

    What it inserts follows `agents.metering.ingest` (`_owners`, `_firsts`): owned by the
    caller (or by a trusted caller's named customer), the first of each (customer, key).
    """
    if not events:
        return {}, set()
    rows = []
    for event in events:
        customer = event["customer"]
        customer_id, stripe_id = (
            customer_reference(customer) if customer is not None else (None, None)
        )
        rows.append(
            {
                **event,
                "named": customer is not None,
                "customer_id": customer_id,
                "stripe_id": stripe_id,
            }
        )
    owners: dict[int, int] = {}
    added: set[int] = set()
    cursor = await connection.execute(
        _RESOLVE_AND_INSERT,
        {"rows": json_rows(rows), "received_at": received_at},
    )
    for position, owner, inserted in await cursor.fetchall():
        if owner is not None:
            owners[position] = int(owner)
        if inserted:
            added.add(position)
    return owners, added


# Owners as `resolve_customers` finds them (our id, else a unique Stripe id; live customers
# only); rows sorted by (customer, key) as `_JSON_INSERT`'s are, so concurrent statements
# take the unique index's entries in one order and never deadlock on each other.
_RESOLVE_AND_INSERT = """
    WITH batch AS (
        SELECT * FROM json_to_recordset(CAST(%(rows)s AS JSON)) AS b(
            position INT, caller BIGINT, named BOOLEAN, customer_id BIGINT, stripe_id TEXT,
            metric TEXT, quantity NUMERIC, occurred_at TIMESTAMPTZ, idempotency_key TEXT,
            properties JSONB
        )
    ), owned AS (
        SELECT batch.*,
            CASE WHEN named THEN COALESCE(by_id.id, by_stripe_id.id) ELSE caller END AS owner
        FROM batch
        LEFT JOIN customers AS by_id
            ON by_id.id = batch.customer_id AND by_id.deleted_at IS NULL
        LEFT JOIN customers AS by_stripe_id
            ON by_stripe_id.stripe_customer_id = batch.stripe_id
            AND by_stripe_id.deleted_at IS NULL
    ), added AS (
        INSERT INTO usage_events
            (customer_id, metric, quantity, occurred_at, idempotency_key, properties, received_at)
        SELECT DISTINCT ON (owner, idempotency_key)
            owner, metric, quantity, occurred_at, idempotency_key, properties,
            CAST(%(received_at)s AS TIMESTAMPTZ)
        FROM owned
        WHERE owner IS NOT NULL AND (caller IS NULL OR owner = caller)
        ORDER BY owner, idempotency_key, position
        ON CONFLICT DO NOTHING
        RETURNING customer_id, idempotency_key
    )
    SELECT owned.position, owned.owner, added.idempotency_key IS NOT NULL
    FROM owned
    LEFT JOIN added
        ON added.customer_id = owned.owner AND added.idempotency_key = owned.idempotency_key
"""


def _aggregate(aggregation: str, field: str | None) -> ColumnElement[Any]:
    if aggregation == "count":
        return func.count(UsageEvent.id)
    if aggregation == "sum":
        return func.coalesce(func.sum(UsageEvent.quantity), 0)
    if aggregation == "max":
        return func.coalesce(func.max(UsageEvent.quantity), 0)
    if aggregation == "unique_count" and field:
        return func.count(distinct(UsageEvent.properties[field].as_string()))
    raise ValueError(f"unknown aggregation {aggregation!r}")


def usage_totals(
    session: Session,
    *,
    metric: str,
    aggregation: str,
    field: str | None,
    start: datetime,
    end: datetime,
    customer_ids: Collection[int] | None = None,
) -> dict[int, Decimal]:
    """Each customer's aggregated `metric` over [start, end): one grouped query."""
    stmt = (
        select(UsageEvent.customer_id, _aggregate(aggregation, field))
        .where(
            UsageEvent.metric == metric,
            UsageEvent.occurred_at >= start,
            UsageEvent.occurred_at < end,
        )
        .group_by(UsageEvent.customer_id)
    )
    if customer_ids is not None:
        stmt = stmt.where(UsageEvent.customer_id.in_(list(customer_ids)))
    return {int(cid): _decimal(value) for cid, value in session.execute(stmt)}


def _decimal(value: Any) -> Decimal:
    """Totals as exact decimals without trailing zeros (`10`, `1.5`), whatever the driver gave."""
    if value is None:
        return ZERO
    exact = Decimal(str(value))
    if exact == exact.to_integral_value():
        return exact.quantize(Decimal(1))
    return exact.normalize()


def entitlement_rows(
    session: Session, metric: str, customer_ids: Collection[int]
) -> dict[int, Entitlement]:
    """The grant row of `metric` per customer (any status), for those that have one."""
    if not customer_ids:
        return {}
    rows = session.scalars(
        select(Entitlement).where(
            Entitlement.feature == metric, Entitlement.customer_id.in_(list(customer_ids))
        )
    )
    return {row.customer_id: row for row in rows}


@dataclass(frozen=True)
class KeyOwner:
    """An active API key's customer and the plan its API calls are rate-limited by."""

    api_key_id: int
    prefix: str
    customer_id: int
    plan: str | None


def active_key_owner(session: Session, key_hash: str, plan_feature: str) -> KeyOwner | None:
    """The unrevoked key with this hash, its live customer, and the plan of `plan_feature`."""
    row = session.execute(
        select(ApiKey.id, ApiKey.prefix, ApiKey.customer_id, Entitlement.plan)
        .join(Customer, Customer.id == ApiKey.customer_id)
        .outerjoin(
            Entitlement,
            (Entitlement.customer_id == ApiKey.customer_id) & (Entitlement.feature == plan_feature),
        )
        .where(
            ApiKey.key_hash == key_hash,
            ApiKey.revoked_at.is_(None),
            Customer.deleted_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    return KeyOwner(row[0], row[1], row[2], row[3])


def keys_of(session: Session, customer_id: int) -> Sequence[ApiKey]:
    return session.scalars(
        select(ApiKey).where(ApiKey.customer_id == customer_id).order_by(ApiKey.id)
    ).all()


def key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
