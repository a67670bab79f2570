"""The day's steady subscriptions, summed in SQL: those of customers with no change that day.

Their state at 00:00 is their state at the day's end, so they add to MRR, active counts and
customers and to no movement: grouped by price, nothing about them comes to Python one by one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, func, select
from sqlalchemy.orm import Session

from db.models import SubscriptionVersion
from db.repositories.analytics import changed_customers, use_sort_memory
from db.repositories.revenue import PRICE_COLUMNS

# What `monthly_amount` reads, plus the plan the scopes use.
GROUP_COLUMNS = tuple(c for c in PRICE_COLUMNS if c.key != "customer_id")


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
                # A subscription keeps its customer for life: the customer first makes the
                # sort compare integers, and leaves the rows in customer order for the next
                # window, which then sorts each customer's few rows only (incremental sort).
                partition_by=(version.customer_id, version.stripe_subscription_id),
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
    # One window for both counts: in a customer's currency, ordered by plan scope, row 1 is
    # the first in the currency, and a row whose number equals its rank the first in its scope.
    in_currency = (ranked.c.customer_id, ranked.c.currency)
    paying = (
        select(
            ranked,
            func.row_number().over(partition_by=in_currency, order_by=scope).label("in_currency"),
            func.rank().over(partition_by=in_currency, order_by=scope).label("scope_rank"),
        )
        # `<= 1`, not `= 1`: PostgreSQL guesses 0.5% of rows for `=` on a window's number,
        # and then sorts the ~1.2M rows at 10M for the GROUP BY instead of hashing them.
        .where(ranked.c.nth <= 1, ranked.c.status.in_(statuses))
        .subquery()
    )
    use_sort_memory(session)
    columns = [paying.c[c.key] for c in GROUP_COLUMNS]
    first_in_plan = paying.c.in_currency == paying.c.scope_rank
    query = select(
        *columns,
        func.count().label("subscriptions"),
        func.sum(case((first_in_plan, 1), else_=0)).label("first_in_plan"),
        func.sum(case((paying.c.in_currency == 1, 1), else_=0)).label("first_in_currency"),
    ).group_by(*columns)
    return list(session.execute(query))
