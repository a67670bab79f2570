"""The revenue report of a date range: periods, summary, forecast and cohorts.

Movements, trials, ARPU and churn come from the daily snapshots (nothing is recomputed);
cohorts need each customer's signup, so they are read from `subscription_versions`: one
scan for signups and one state read per month of the range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from agents.analytics.cohorts import cohort_triangle, months_between, next_month
from agents.analytics.daily import day_bounds
from agents.analytics.forecast import forecast_mrr
from agents.analytics.metrics import ALL_PLANS, PAYING, SubscriptionState
from agents.analytics.movements import customer_mrr
from agents.analytics.revenue_day import first_paid
from agents.analytics.revenue_report import (
    DayFigures,
    missing_days,
    period_of,
    period_rows,
    summary,
)
from db.repositories import analytics as analytics_repo
from db.repositories import revenue as repo
from db.repositories.metric_history import snapshots_between


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def paying_customers(session: Session, at: datetime, currency: str) -> set[int]:
    """Customers with MRR above zero in `currency` at the instant `at`."""
    versions = analytics_repo.latest_versions(session, at, statuses=PAYING)
    mrr = customer_mrr(SubscriptionState.from_row(v) for v in versions)
    return {
        customer
        for (customer, cur, plan), amount in mrr.items()
        if cur == currency and plan == ALL_PLANS and amount > 0
    }


def cohorts(session: Session, start: date, end: date, currency: str) -> list[dict[str, Any]]:
    """The retention triangle of the signup months from `start`'s to `end`'s."""
    months = months_between(start, end)
    range_end = day_bounds(end)[1]
    first = first_paid(repo.paying_prices(session, range_end, PAYING))
    signups = {
        customer: at
        for (customer, cur, plan), at in first.items()
        if cur == currency and plan == ALL_PLANS and at >= _midnight(months[0])
    }
    paying = {
        month: paying_customers(session, min(_midnight(next_month(month)), range_end), currency)
        for month in months
    }
    return cohort_triangle(signups, months, paying)


def revenue_report(
    session: Session,
    start: date,
    end: date,
    *,
    currency: str,
    plan: str = ALL_PLANS,
    by: str = "month",
) -> dict[str, Any]:
    """Everything `moneta analytics report` and /ops/analytics/revenue show, as plain data."""
    period_of(start, by)  # refuses an unknown period before any query
    currency = currency.lower()
    snapshots = snapshots_between(session, start, end, currency=currency)
    days = [DayFigures(s.day, s.metrics) for s in snapshots if s.plan == plan]
    return {
        "currency": currency,
        "plan": plan,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "by": by,
        "days": len(days),
        "missing_days": missing_days(days),
        "periods": period_rows(days, by),
        "summary": summary(days),
        "forecast": forecast_mrr([(f.day, int(f.metrics.get("mrr") or 0)) for f in days]),
        "cohorts": cohorts(session, start, end, currency) if plan == ALL_PLANS else [],
    }
