"""Metric snapshots as a report: flat rows, CSV, per-day series, plan breakdown, movements."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Sequence
from datetime import date
from typing import Any

from agents.analytics.movements import REVENUE_METRICS
from db.models import MetricSnapshot

ALL_PLANS = "*"
KEY_COLUMNS = ("day", "currency", "plan")
METRIC_COLUMNS = (
    "mrr",
    "arr",
    "active_subscriptions",
    "active_customers",
    "new_subscriptions",
    "churned_subscriptions",
    "logo_churn_rate",
    "revenue_churn_rate",
    "arpu",
    "gross_revenue",
    "refunds",
    "net_revenue",
    "failed_payments",
    "failed_payment_amount",
    "recovered_payments",
    "recovered_payment_amount",
    *REVENUE_METRICS,
)


def report_rows(snapshots: Sequence[MetricSnapshot]) -> list[dict[str, Any]]:
    return [
        {
            "day": s.day.isoformat(),
            "currency": s.currency,
            "plan": s.plan,
            **{m: s.metrics.get(m) for m in METRIC_COLUMNS},
        }
        for s in snapshots
    ]


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*KEY_COLUMNS, *METRIC_COLUMNS], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def series(
    snapshots: Sequence[MetricSnapshot], metric: str, *, plan: str = ALL_PLANS
) -> list[tuple[date, int]]:
    """(day, value) of one integer metric for one plan, in day order."""
    return [(s.day, int(s.metrics.get(metric) or 0)) for s in snapshots if s.plan == plan]


def movements(points: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """Day-over-day change of a series (the first day has no predecessor and is left out)."""
    return [(day, value - prev) for (_, prev), (day, value) in itertools.pairwise(points)]


def plan_breakdown(snapshots: Sequence[MetricSnapshot], metric: str) -> list[tuple[str, int]]:
    """Per plan on the latest day of the range, largest first."""
    if not snapshots:
        return []
    last = max(s.day for s in snapshots)
    rows = [
        (s.plan, int(s.metrics.get(metric) or 0))
        for s in snapshots
        if s.day == last and s.plan != ALL_PLANS
    ]
    return sorted(rows, key=lambda row: row[1], reverse=True)
