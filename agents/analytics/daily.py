"""The daily snapshot: read one UTC day's records, compute its metrics, rewrite that day only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from agents.analytics.metrics import (
    PAYING,
    PaymentTotal,
    RefundTotal,
    SubscriptionDay,
    SubscriptionState,
    compute_day_metrics,
)
from agents.analytics.movements import empty_values
from agents.analytics.revenue_day import day_revenue
from core.clock import utcnow
from db.models import MetricSnapshot
from db.repositories import analytics as repo
from db.session import Database


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of `day` in UTC."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def subscription_days(session: Session, day: date) -> list[SubscriptionDay]:
    """Start and end state of each subscription that matters on `day`: paying at either end,
    or changed during the day. Subscriptions that ended before the day are not read."""
    start, end = day_bounds(day)
    at_start = {
        v.stripe_subscription_id: SubscriptionState.from_row(v)
        for v in repo.latest_versions(session, start, statuses=PAYING)
    }
    at_end = {
        v.stripe_subscription_id: SubscriptionState.from_row(v)
        for v in repo.latest_versions(session, end, statuses=PAYING, or_changed_since=start)
    }
    new = repo.first_seen_between(session, start, end)
    return [
        SubscriptionDay(sid, at_start.get(sid), at_end.get(sid), sid in new)
        for sid in sorted(at_start.keys() | at_end.keys())
    ]


def aggregate_day(session: Session, day: date) -> list[MetricSnapshot]:
    """Compute `day` and replace its snapshot rows, in the caller's transaction."""
    start, end = day_bounds(day)
    payments = [PaymentTotal(*row) for row in repo.payment_totals(session, start, end)]
    refunds = [RefundTotal(*row) for row in repo.refund_totals(session, start, end)]
    days = subscription_days(session, day)
    revenue = day_revenue(session, days, start, end)
    metrics = compute_day_metrics(days, payments, refunds, scopes=revenue.keys())
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
