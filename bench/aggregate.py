"""The daily aggregation (`agents.analytics.daily.aggregate_day`) over growing tables.

For each size R, set-based SQL (INSERT ... SELECT over generate_series, in PostgreSQL) seeds R
rows: R/4 subscriptions, each with two versions 15 days apart (R/2 version rows), R/4
succeeded payments, each with its invoice (the join that gives a payment its plan), and R/4
usage events, all spread over 30 days (customers and invoices are supporting rows, not
counted). The aggregation does not read usage; those rows show that other tables' growth
costs it nothing. Then the middle day is aggregated three times in a row; the metric is the
median, in seconds, and the growth of that time per step in size. PostgreSQL only.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from sqlalchemy import text

from agents.analytics.daily import aggregate_day
from bench.report import BenchFailed, Metric
from bench.target import BenchTarget

FULL = (100_000, 1_000_000, 10_000_000)
QUICK = (10_000,)
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
    """INSERT INTO usage_events (customer_id, metric, quantity, occurred_at, idempotency_key,
           properties, received_at)
       SELECT g, 'api_calls', g % 7 + 1,
              :t0 + make_interval(days => g % :days, secs => (g * 7) % 86400), 'u' || g,
              '{}'::jsonb, :t0
       FROM generate_series(1, :n) g""",
]
SEEDED = (
    "customers",
    "subscriptions",
    "subscription_versions",
    "invoices",
    "payments",
    "usage_events",
)


def run(target: BenchTarget, quick: bool, sizes: Sequence[int] | None = None) -> list[Metric]:
    """`sizes` (rows) overrides the default sizes (100k, 1M, 10M; 10k with `quick`)."""
    if target.database.engine.dialect.name != "postgresql":
        raise BenchFailed("the aggregate benchmark seeds with PostgreSQL's generate_series")
    metrics: list[Metric] = []
    seconds_by_size: dict[int, float] = {}
    for size in sizes or (QUICK if quick else FULL):
        target.reset()
        seed_seconds = seed_rows(target, size)
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


def seed_rows(target: BenchTarget, size: int) -> float:
    """Seed `size` rows as the module docstring describes, then ANALYZE; seconds taken."""
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
