"""Queries behind metering: bulk event inserts, period totals, limits, API keys."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Insert, Table, distinct, func, or_, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from db.models import ApiKey, Customer, Entitlement, UsageEvent

ZERO = Decimal(0)


def resolve_customers(session: Session, references: Collection[str]) -> dict[str, int]:
    """Our id or Stripe id (as sent) -> our id, for live customers; unknown ones are left out."""
    ids = {ref for ref in references if ref.isdigit()}
    stripe_ids = set(references) - ids
    conditions: list[ColumnElement[bool]] = []
    if ids:
        conditions.append(Customer.id.in_([int(i) for i in ids]))
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
        if str(customer_id) in ids:
            found[str(customer_id)] = customer_id
        if stripe_id in stripe_ids:
            found[stripe_id] = customer_id
    return found


def insert_usage_events(session: Session, rows: Sequence[dict[str, Any]]) -> set[tuple[int, str]]:
    """INSERT ... ON CONFLICT DO NOTHING for all `rows`; the (customer, key) pairs it added.

    Concurrent requests carrying the same key race on the unique constraint, so exactly one
    of them inserts; the others see the pair missing from their result: a duplicate.
    """
    if not rows:
        return set()
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        returned = session.execute(_JSON_INSERT, {"rows": json.dumps(rows, default=_as_json_text)})
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
# placeholders cost more still, to build and to parse.
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
    ON CONFLICT DO NOTHING
    RETURNING customer_id, idempotency_key
    """
)


def _as_json_text(value: Any) -> str:
    """Quantities and times in the forms PostgreSQL reads back exactly (a Decimal as its
    digits, never a float; a datetime in ISO 8601 with its offset)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


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
