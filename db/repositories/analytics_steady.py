"""The day's steady subscriptions, summed in SQL: those of customers with no change that day.

Their state at 00:00 is their state at the day's end, so they add to MRR, active counts and
customers and to no movement: grouped by price, nothing about them comes to Python one by one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, func, select, text
from sqlalchemy.orm import Session

from db.models import SubscriptionVersion
from db.repositories.analytics import changed_customers
from db.repositories.revenue import PRICE_COLUMNS

# What `monthly_amount` reads, plus the plan the scopes use.
GROUP_COLUMNS = tuple(c for c in PRICE_COLUMNS if c.key != "customer_id")
# PostgreSQL's work_mem for the rest of the caller's transaction (SET LOCAL).
SORT_MEMORY = "256MB"


def steady_prices(
    session: Session,
    start: datetime,
    end: datetime,
    statuses: Collection[str],
    unknown_plan: str,
) -> list[Row[Any]]:
    """Subscriptions whose latest version before `start` is in `statuses`, of customers with
    no version in [start, end), grouped by GROUP_COLUMNS: each row is those columns, then
    `subscriptions` (count), `first_in_plan` and `first_in_currency`: how many of the group's
    customers it is the first to count in its plan scope (the plan, or `unknown_plan` when
    empty) and in its currency, so that their sums over groups are distinct customers."""
    version = SubscriptionVersion
    changed = changed_customers(start, end).subquery()
    ranked = (
        select(
            *PRICE_COLUMNS,
            func.row_number()
            .over(
                partition_by=version.stripe_subscription_id,
                order_by=version.valid_from.desc(),
            )
            .label("nth"),
        )
        .where(
            version.valid_from < start,
            ~select(changed.c.customer_id)
            .where(changed.c.customer_id == version.customer_id)
            .exists(),
        )
        .subquery()
    )
    scope = func.coalesce(func.nullif(ranked.c.plan, ""), unknown_plan)
    paying = (
        select(
            ranked,
            func.row_number()
            .over(partition_by=(ranked.c.customer_id, ranked.c.currency), order_by=scope)
            .label("in_currency"),
            func.row_number()
            .over(partition_by=(ranked.c.customer_id, ranked.c.currency, scope))
            .label("in_plan"),
        )
        .where(ranked.c.nth == 1, ranked.c.status.in_(statuses))
        .subquery()
    )
    if session.get_bind().dialect.name == "postgresql":
        # Its three sorts of every paying subscription spill to disk under the 4 MB default.
        session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
    columns = [paying.c[c.key] for c in GROUP_COLUMNS]
    query = select(
        *columns,
        func.count().label("subscriptions"),
        func.sum(case((paying.c.in_plan == 1, 1), else_=0)).label("first_in_plan"),
        func.sum(case((paying.c.in_currency == 1, 1), else_=0)).label("first_in_currency"),
    ).group_by(*columns)
    return list(session.execute(query))
