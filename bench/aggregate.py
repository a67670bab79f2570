"""The daily aggregation (`agents.analytics.daily.aggregate_day`) over growing tables.

For each size R, set-based SQL (generate_series) seeds R rows: R/4 subscriptions, each with
two versions 15 days apart (R/2), and R/4 succeeded payments, each with its invoice (the
join that gives a payment its plan), spread over 30 days. Then the middle day is aggregated
three times in a row; the metric is the median, in seconds. PostgreSQL only.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from sqlalchemy import text

from agents.analytics.daily import aggregate_day
from bench.report import BenchFailed, Metric
from bench.target import BenchTarget

FULL = (100_000, 1_000_000, 3_000_000)
QUICK = (10_000, 100_000)
FIRST_DAY = date(2026, 10, 1)
DAYS = 30
REPEATS = 3

SEED = [
    """INSERT INTO customers (id, stripe_customer_id, email, stripe_watermark, created_at,
           updated_at)
       SELECT g, 'cus_agg_' || g, 'c' || g || '@example.com', 0, :t0, :t0
       FROM generate_series(1, :n) g""",
    """INSERT INTO subscriptions (id, stripe_subscription_id, customer_id, status, plan, quantity,
           unit_amount, currency, interval, interval_count, cancel_at_period_end,
           stripe_watermark, created_at, updated_at)
       SELECT g, 'sub_agg_' || g, g, CASE WHEN g % 10 = 0 THEN 'canceled' ELSE 'active' END,
              (ARRAY['basic', 'pro', 'team'])[g % 3 + 1], 1, 1000 * (g % 5 + 1), 'usd',
              'month', 1, false, 0, :t0, :t0
       FROM generate_series(1, :n) g""",
    """INSERT INTO subscription_versions (stripe_subscription_id, customer_id, valid_from,
           status, plan, quantity, unit_amount, currency, interval, interval_count)
       SELECT 'sub_agg_' || g, g,
              :t0 + make_interval(days => g % :days, secs => g % 86400) + v * interval '15 days',
              CASE WHEN v = 1 AND g % 10 = 0 THEN 'canceled' ELSE 'active' END,
              (ARRAY['basic', 'pro', 'team'])[g % 3 + 1], 1 + v, 1000 * (g % 5 + 1), 'usd',
              'month', 1
       FROM generate_series(1, :n) g, generate_series(0, 1) v""",
    """INSERT INTO invoices (stripe_invoice_id, customer_id, stripe_subscription_id, status,
           amount_due, amount_paid, currency, attempt_count, stripe_watermark, created_at,
           updated_at)
       SELECT 'in_agg_' || g, g, 'sub_agg_' || g, 'paid', 1000 * (g % 5 + 1),
              1000 * (g % 5 + 1), 'usd', 1, 0, :t0, :t0
       FROM generate_series(1, :n) g""",
    """INSERT INTO payments (stripe_charge_id, customer_id, stripe_invoice_id, amount,
           amount_refunded, currency, status, paid_at, stripe_watermark, created_at, updated_at)
       SELECT 'ch_agg_' || g, g, 'in_agg_' || g, 1000 * (g % 5 + 1), 0, 'usd', 'succeeded',
              :t0 + make_interval(days => g % :days, secs => g % 86400), 0, :t0, :t0
       FROM generate_series(1, :n) g""",
]
SEEDED = ("customers", "subscriptions", "subscription_versions", "invoices", "payments")


def run(target: BenchTarget, quick: bool) -> list[Metric]:
    if target.database.engine.dialect.name != "postgresql":
        raise BenchFailed("the aggregate benchmark seeds with PostgreSQL's generate_series")
    metrics: list[Metric] = []
    seconds_by_size: dict[int, float] = {}
    for size in QUICK if quick else FULL:
        target.reset()
        seed_seconds = _seed(target, size)
        seconds = _aggregate(target)
        seconds_by_size[size] = seconds
        metrics += [
            Metric(f"seed {size:,} rows (generate_series)", "s", seed_seconds),
            Metric(f"aggregate_day over {size:,} rows", "s", seconds),
        ]
    sizes = sorted(seconds_by_size)
    for smaller, larger in pairwise(sizes):
        growth = seconds_by_size[larger] / seconds_by_size[smaller]
        metrics.append(
            Metric(
                f"time growth {smaller:,} → {larger:,} rows ({larger // smaller}x rows)",
                "x",
                growth,
            )
        )
    return metrics


def _seed(target: BenchTarget, size: int) -> float:
    subscriptions = size // 4
    t0 = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)
    started = time.perf_counter()
    with target.database.engine.begin() as connection:
        for statement in SEED:
            connection.execute(text(statement), {"n": subscriptions, "t0": t0, "days": DAYS})
        connection.execute(text(f"ANALYZE {', '.join(SEEDED)}"))
    return time.perf_counter() - started


def _aggregate(target: BenchTarget) -> float:
    day = FIRST_DAY + timedelta(days=DAYS // 2)
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        with target.database.transaction() as session:
            snapshots = aggregate_day(session, day)
        timings.append(time.perf_counter() - started)
        if not snapshots:
            raise BenchFailed(f"aggregate_day({day}) wrote no snapshot over seeded data")
    return statistics.median(timings)
