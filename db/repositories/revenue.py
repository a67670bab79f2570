"""Queries behind revenue analytics: earlier paying versions, trial endings, signups."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, select
from sqlalchemy.orm import Session, aliased

from db.models import SubscriptionVersion

# Stays under SQLite's bound-parameter limit with room for the other filters.
CHUNK = 500
TRIALING = "trialing"

PRICE_COLUMNS = (
    SubscriptionVersion.customer_id,
    SubscriptionVersion.status,
    SubscriptionVersion.currency,
    SubscriptionVersion.plan,
    SubscriptionVersion.unit_amount,
    SubscriptionVersion.quantity,
    SubscriptionVersion.interval,
    SubscriptionVersion.interval_count,
    SubscriptionVersion.discount_percent_off,
    SubscriptionVersion.discount_amount_off,
)


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def paying_prices(
    session: Session,
    before: datetime,
    statuses: Collection[str],
    customer_ids: Collection[int] | None = None,
) -> list[Row[Any]]:
    """Each distinct price a customer paid (a version in `statuses` with a positive unit
    amount) before `before`, with the first moment it did: PRICE_COLUMNS + first_at.
    All customers when `customer_ids` is None, else only those."""
    version = SubscriptionVersion
    query = (
        select(*PRICE_COLUMNS, func.min(version.valid_from).label("first_at"))
        .where(version.valid_from < before, version.status.in_(statuses), version.unit_amount > 0)
        .group_by(*PRICE_COLUMNS)
    )
    if customer_ids is None:
        return list(session.execute(query))
    rows: list[Row[Any]] = []
    for chunk in _chunks(sorted(customer_ids)):
        rows += session.execute(query.where(version.customer_id.in_(chunk)))
    return rows


def _latest_before(moment: datetime, changed: Any) -> Any:
    """(sid, valid_from) of the latest version before `moment` of the `changed` subscriptions."""
    version = SubscriptionVersion
    return (
        select(
            version.stripe_subscription_id.label("sid"),
            func.max(version.valid_from).label("valid_from"),
        )
        .where(version.valid_from < moment, version.stripe_subscription_id.in_(changed))
        .group_by(version.stripe_subscription_id)
        .subquery()
    )


def trial_endings(session: Session, start: datetime, end: datetime) -> list[tuple[str, Any, str]]:
    """(currency, plan, status at `end`) of subscriptions trialing at `start` and not at `end`.
    Only subscriptions with a version in [start, end) are read."""
    version = SubscriptionVersion
    changed = (
        select(version.stripe_subscription_id)
        .where(version.valid_from >= start, version.valid_from < end)
        .distinct()
    )
    before, after = _latest_before(start, changed), _latest_before(end, changed)
    old, new = aliased(SubscriptionVersion), aliased(SubscriptionVersion)
    query = (
        select(new.currency, new.plan, new.status)
        .select_from(old)
        .join(
            before,
            and_(old.stripe_subscription_id == before.c.sid, old.valid_from == before.c.valid_from),
        )
        .join(new, new.stripe_subscription_id == old.stripe_subscription_id)
        .join(
            after,
            and_(new.stripe_subscription_id == after.c.sid, new.valid_from == after.c.valid_from),
        )
        .where(old.status == TRIALING, new.status != TRIALING)
    )
    return [(currency, plan, status) for currency, plan, status in session.execute(query)]
