"""The daily snapshot: read one UTC day's records, compute its metrics, rewrite that day only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from agents.analytics.metrics import (
    PAYING,
    TRIALING,
    UNKNOWN_PLAN,
    PaymentTotal,
    RefundTotal,
    SteadyPrice,
    SubscriptionDay,
    SubscriptionState,
    compute_day_metrics,
)
from agents.analytics.movements import empty_values
from agents.analytics.revenue_day import day_revenue
from core.clock import utcnow
from db.models import MetricSnapshot
from db.repositories import analytics as repo
from db.repositories import analytics_steady as steady_repo
from db.session import Database


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of `day` in UTC."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def subscription_days(session: Session, day: date) -> list[SubscriptionDay]:
    """Start and end state of each subscription of the customers with a change during the
    day, kept when it matters: paying at either end, or changed during the day. The other
    customers' subscriptions are `steady_prices` and never come here one by one.

    One read: each such subscription's latest version before the day and its latest version
    during the day (the end state)."""
    start, end = day_bounds(day)
    before: dict[str, SubscriptionState] = {}
    during: dict[str, SubscriptionState] = {}
    for row in repo.changed_versions(session, start, end):
        sid, in_day, *price = tuple(row)
        (during if in_day else before)[sid] = SubscriptionState.from_columns(*price)
    days = []
    for sid in sorted(before.keys() | during.keys()):
        first, last = before.get(sid), during.get(sid)
        at_start = first if first is not None and first.status in PAYING else None
        at_end = at_start if last is None else last
        if at_start is not None or at_end is not None:
            trial_ended = (
                first is not None
                and last is not None
                and first.status == TRIALING
                and last.status != TRIALING
            )
            days.append(SubscriptionDay(sid, at_start, at_end, first is None, trial_ended))
    return days


def steady_prices(session: Session, day: date) -> list[SteadyPrice]:
    """The paying subscriptions of customers with no change on `day`, one group per price."""
    start, end = day_bounds(day)
    return [
        SteadyPrice(
            SubscriptionState.from_row(row, customer_id=0),
            row.subscriptions,
            int(row.first_in_plan),
            int(row.first_in_currency),
        )
        for row in steady_repo.steady_prices(session, start, end, PAYING, UNKNOWN_PLAN)
    ]


def aggregate_day(session: Session, day: date) -> list[MetricSnapshot]:
    """Compute `day` and replace its snapshot rows, in the caller's transaction."""
    start, end = day_bounds(day)
    payments = [PaymentTotal(*row) for row in repo.payment_totals(session, start, end)]
    refunds = [RefundTotal(*row) for row in repo.refund_totals(session, start, end)]
    days = subscription_days(session, day)
    revenue = day_revenue(session, days, start)
    metrics = compute_day_metrics(
        days, payments, refunds, scopes=revenue.keys(), steady=steady_prices(session, day)
    )
    now = utcnow()
    snapshots = [
        MetricSnapshot(
            day=day,
            currency=m.currency,
            plan=m.plan,
            metrics=m.values | revenue.get((m.currency, m.plan), empty_values()),
            computed_at=now,
        )
        for m in metrics
    ]
    return repo.replace_snapshots(session, day, snapshots)


def backfill(
    database: Database,
    start: date,
    end: date,
    progress: Callable[[date], None] | None = None,
) -> int:
    """Rebuild every day from `start` to `end` inclusive, one transaction per day."""
    if end < start:
        raise ValueError(f"backfill range ends ({end}) before it starts ({start})")
    days = 0
    day = start
    while day <= end:
        with database.transaction() as session:
            aggregate_day(session, day)
        days += 1
        if progress is not None:
            progress(day)
        day += timedelta(days=1)
    return days


def daily_report(session: Session, day: date) -> dict[str, Any]:
    """The day's snapshot for operators; computed when missing or when the day is not over."""
    snapshots = repo.snapshots_of(session, day)
    if not snapshots or day >= utcnow().date():
        snapshots = aggregate_day(session, day)
    return {
        "day": day.isoformat(),
        "computed_at": max((s.computed_at for s in snapshots), default=None),
        "snapshots": [
            {"currency": s.currency, "plan": s.plan, "metrics": s.metrics}
            for s in sorted(snapshots, key=lambda s: (s.currency, s.plan))
        ],
    }
