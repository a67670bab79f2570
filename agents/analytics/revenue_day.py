"""The revenue part of a day's snapshot: MRR movements and trial endings.

Set-based: the day's subscription states are those the snapshot already read; the only extra
read is the price history of the few customers whose MRR rose from zero (to tell new from
reactivation); trial endings come with the day's states.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from agents.analytics.metrics import PAYING, SubscriptionDay, SubscriptionState, monthly_amount
from agents.analytics.movements import (
    CustomerScope,
    RevenueValues,
    Scope,
    customer_scopes,
    day_mrr,
    returning_candidates,
    revenue_values,
    trial_endings,
)
from db.repositories import revenue as repo


def first_paid(rows: Iterable[Any]) -> dict[CustomerScope, datetime]:
    """The first moment each customer had MRR in each scope, from `paying_prices` rows
    (a price whose monthly amount is zero after discounts does not count)."""
    first: dict[CustomerScope, datetime] = {}
    for row in rows:
        state = SubscriptionState.from_row(row)
        if monthly_amount(state) <= 0:
            continue
        for key in customer_scopes(state.customer_id, state.currency, state.plan):
            if key not in first or row.first_at < first[key]:
                first[key] = row.first_at
    return first


def day_revenue(
    session: Session, days: Sequence[SubscriptionDay], start: datetime
) -> dict[Scope, RevenueValues]:
    """Movements and trial figures per scope of the day starting at `start`, from its states."""
    mrr = day_mrr(days)
    candidates = returning_candidates(mrr)
    rows = repo.paying_prices(session, start, PAYING, candidates) if candidates else []
    return revenue_values(mrr, first_paid(rows).keys(), trial_endings(days))
