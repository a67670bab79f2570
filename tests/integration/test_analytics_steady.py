"""The grouped path of a day (steady customers summed in SQL, only changed customers read one
by one) gives exactly the per-row path's figures, on randomized subscription histories."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from agents.analytics.daily import aggregate_day, day_bounds, steady_prices, subscription_days
from agents.analytics.metrics import PAYING, SubscriptionDay, SubscriptionState
from agents.analytics.metrics import compute_day_metrics as metrics_of
from agents.analytics.movements import empty_values
from agents.analytics.revenue_day import day_revenue
from db.models import Customer, SubscriptionVersion
from db.repositories.revenue import paying_prices
from db.session import Database

DAY = date(2026, 11, 20)
START, END = day_bounds(DAY)
STATUSES = ("active", "active", "past_due", "trialing", "canceled", "unpaid", "incomplete")
PLANS = ("pro", "starter", "unknown", None, "")


def per_row_days(database: Database) -> list[SubscriptionDay]:
    """Every subscription's start and end state, one by one from all its versions: the path
    the grouping replaces (the end state kept when paying or recorded during the day)."""
    with database.transaction() as s:
        history = s.scalars(select(SubscriptionVersion).order_by(SubscriptionVersion.valid_from))
        versions: dict[str, list[SubscriptionVersion]] = {}
        for v in history:
            versions.setdefault(v.stripe_subscription_id, []).append(v)
        days = []
        for sid, rows in sorted(versions.items()):
            first = [v for v in rows if v.valid_from < START][-1:]
            last = [v for v in rows if v.valid_from < END][-1:]
            at_start = SubscriptionState.from_row(first[0]) if first else None
            at_end = SubscriptionState.from_row(last[0]) if last else None
            if at_start is not None and at_start.status not in PAYING:
                at_start = None
            if at_end is not None and at_end.status not in PAYING and last[0].valid_from < START:
                at_end = None
            trial_ended = (
                bool(first)
                and first[0].status == "trialing"
                and last[0].valid_from >= START
                and last[0].status != "trialing"
            )
            if at_start is not None or at_end is not None:
                days.append(SubscriptionDay(sid, at_start, at_end, not first, trial_ended))
    return days


def random_version(
    rng: random.Random, sid: str, customer_id: int, when: datetime
) -> SubscriptionVersion:
    percent = rng.choice((None, None, "", "20", "12.5", "33.333"))
    return SubscriptionVersion(
        stripe_subscription_id=sid,
        customer_id=customer_id,
        valid_from=when,
        status=rng.choice(STATUSES),
        plan=rng.choice(PLANS),
        unit_amount=rng.choice((0, 999, 1000, 2500, 120_000)),
        quantity=rng.randint(1, 3),
        currency=rng.choice(("usd", "usd", "eur")),
        interval=rng.choice(("month", "month", "year", "week", "day")),
        interval_count=rng.choice((1, 1, 3)),
        discount_percent_off=percent,
        discount_amount_off=rng.choice((None, None, 300, 5000)),
    )


def seed(database: Database, rng: random.Random, customers: int) -> None:
    """Customers with 1-3 subscriptions each; 1-4 versions per subscription, before, during
    and after the day (a version inside the day makes its customer a changed one)."""
    with database.transaction() as s:
        rows = [
            Customer(stripe_customer_id=f"cus_r{i}", email=f"r{i}@x.io") for i in range(customers)
        ]
        s.add_all(rows)
        s.flush()
        for customer in rows:
            for n in range(rng.randint(1, 3)):
                sid = f"sub_{customer.id}_{n}"
                offsets = {rng.uniform(-40, 2) for _ in range(rng.randint(1, 4))}
                s.add_all(
                    random_version(rng, sid, customer.id, START + timedelta(days=d))
                    for d in offsets
                )


@pytest.mark.parametrize("seed_value", [1, 2, 3, 4])
def test_grouped_day_equals_the_per_row_day(database: Database, seed_value: int) -> None:
    seed(database, random.Random(seed_value), customers=60)
    every = per_row_days(database)
    with database.transaction() as s:
        changed = subscription_days(s, DAY)
        steady = steady_prices(s, DAY)
        revenue = day_revenue(s, every, START)
        assert day_revenue(s, changed, START) == revenue
    scopes = revenue.keys()
    grouped = metrics_of(changed, scopes=scopes, steady=steady)
    assert grouped == metrics_of(every, scopes=scopes)
    # Both paths really ran: some customers changed that day, others were summed as groups.
    assert steady and len(changed) < len(every)
    assert {d.subscription_id for d in changed} < {d.subscription_id for d in every}
    with database.transaction() as s:
        written = {(m.currency, m.plan): m.metrics for m in aggregate_day(s, DAY)}
    assert written == {
        (m.currency, m.plan): {**m.values, **revenue.get((m.currency, m.plan), empty_values())}
        for m in grouped
    }


def test_a_day_without_any_change_is_all_groups(database: Database) -> None:
    seed(database, random.Random(9), customers=30)
    with database.transaction() as s:
        s.query(SubscriptionVersion).filter(SubscriptionVersion.valid_from >= START).delete()
    every = per_row_days(database)
    with database.transaction() as s:
        assert subscription_days(s, DAY) == []
        steady = steady_prices(s, DAY)
    assert metrics_of([], steady=steady) == metrics_of(every)
    assert sum(g.subscriptions for g in steady) == sum(1 for d in every if d.end is not None)


def test_the_prices_of_some_customers_are_those_of_all_customers_filtered(
    database: Database,
) -> None:
    """The ids travel as one array on PostgreSQL and in chunks elsewhere: same rows."""
    seed(database, random.Random(5), customers=60)
    with database.transaction() as s:
        every = paying_prices(s, END, PAYING)
        ids = {row.customer_id for row in every if row.customer_id % 2}
        some = paying_prices(s, END, PAYING, ids)
    assert ids and Counter(map(tuple, some)) == Counter(
        tuple(row) for row in every if row.customer_id in ids
    )
