"""Daily metrics: hand-computed golden numbers and the invariants that hold for any input."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.metrics import (
    PaymentTotal,
    RefundTotal,
    ScopeMetrics,
    SubscriptionDay,
    SubscriptionState,
    compute_day_metrics,
    monthly_amount,
)


def state(
    customer_id: int = 1, status: str = "active", plan: str | None = "pro", **kw: object
) -> SubscriptionState:
    values: dict[str, object] = {"currency": "usd", "unit_amount": 1000} | kw
    return SubscriptionState(customer_id, status, plan, **values)  # type: ignore[arg-type]


def by_scope(metrics: list[ScopeMetrics]) -> dict[tuple[str, str], dict[str, int | str]]:
    return {(m.currency, m.plan): m.values for m in metrics}


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"unit_amount": 120_000, "interval": "year"}, 10_000),
        ({"unit_amount": 1000, "quantity": 3}, 3000),
        ({"unit_amount": 3000, "interval": "month", "interval_count": 3}, 1000),
        ({"unit_amount": 1000, "interval": "week"}, 4333),  # 4333.33
        ({"unit_amount": 100, "interval": "day"}, 3042),  # 3041.67
        ({"unit_amount": 24_000, "interval": "year", "interval_count": 2}, 1000),
        ({"unit_amount": 1000, "quantity": 3, "percent_off": Decimal("25")}, 2250),
        ({"unit_amount": 999, "percent_off": Decimal("33.3")}, 666),  # 666.333
        ({"unit_amount": 2000, "amount_off": 500}, 1500),
        ({"unit_amount": 2000, "amount_off": 5000}, 0),  # never negative
        ({"unit_amount": 12_000, "interval": "year", "amount_off": 2400}, 800),
        ({"unit_amount": 6, "interval": "year"}, 0),  # 0.5 -> 0 (half-even)
        ({"unit_amount": 18, "interval": "year"}, 2),  # 1.5 -> 2 (half-even)
    ],
)
def test_monthly_amount_normalises_interval_and_applies_discounts(
    kw: dict[str, Any], expected: int
) -> None:
    assert monthly_amount(state(**kw)) == expected


def test_unknown_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="fortnight"):
        monthly_amount(state(interval="fortnight"))


def test_mrr_counts_active_and_past_due_and_excludes_trials() -> None:
    subs = [
        SubscriptionDay("a", None, state(1, "active", unit_amount=120_000, interval="year")),
        SubscriptionDay("b", None, state(2, "past_due", plan="starter", unit_amount=2000)),
        SubscriptionDay("c", None, state(3, "trialing", unit_amount=5000)),
        SubscriptionDay("d", None, state(4, "unpaid", unit_amount=5000)),
    ]
    metrics = by_scope(compute_day_metrics(subs))
    total = metrics[("usd", "*")]
    assert (total["mrr"], total["arr"]) == (12_000, 144_000)
    assert (total["active_subscriptions"], total["active_customers"]) == (2, 2)
    assert total["arpu"] == 6000
    assert metrics[("usd", "pro")]["mrr"] == 10_000
    assert metrics[("usd", "starter")]["mrr"] == 2000


def test_churn_rates_compare_churned_against_start_of_day() -> None:
    subs = [
        SubscriptionDay("a", state(1, unit_amount=1000), state(1, unit_amount=1000)),
        SubscriptionDay("b", state(2, unit_amount=1000), state(2, unit_amount=1000)),
        SubscriptionDay("c", state(3, unit_amount=2000), state(3, unit_amount=2000)),
        SubscriptionDay("d", state(4, unit_amount=4000), state(4, "canceled", unit_amount=4000)),
        # customer 1 loses one of two subscriptions: churned subscription, not a lost logo
        SubscriptionDay("e", state(1, unit_amount=2000), state(1, "unpaid", unit_amount=2000)),
        SubscriptionDay("f", None, state(5, "canceled"), is_new=True),  # same-day cancel
        SubscriptionDay("g", state(6, "trialing"), state(6, "canceled")),  # trial not converted
    ]
    total = by_scope(compute_day_metrics(subs))[("usd", "*")]
    assert total["churned_subscriptions"] == 2
    assert total["logo_churn_rate"] == "0.250000"  # 1 of 4 paying customers
    assert total["revenue_churn_rate"] == "0.600000"  # 6000 of 10000
    assert total["mrr"] == 4000
    assert total["new_subscriptions"] == 1


def test_new_subscriptions_skip_ones_that_never_started() -> None:
    subs = [
        SubscriptionDay("a", None, state(1, "trialing"), is_new=True),
        SubscriptionDay("b", None, state(2, "active"), is_new=True),
        SubscriptionDay("c", None, state(3, "incomplete_expired"), is_new=True),
    ]
    assert by_scope(compute_day_metrics(subs))[("usd", "*")]["new_subscriptions"] == 2


def test_net_revenue_is_payments_minus_refunds_per_currency() -> None:
    payments = [
        PaymentTotal("usd", "pro", "succeeded", 3, 15_000),
        PaymentTotal("usd", None, "succeeded", 1, 500),
        PaymentTotal("usd", "pro", "failed", 2, 9800),
        PaymentTotal("eur", "pro", "succeeded", 1, 4000),
    ]
    refunds = [RefundTotal("usd", "pro", 2500), RefundTotal("eur", None, 1000)]
    metrics = by_scope(compute_day_metrics([], payments, refunds))
    usd = metrics[("usd", "*")]
    assert (usd["gross_revenue"], usd["refunds"], usd["net_revenue"]) == (15_500, 2500, 13_000)
    assert (usd["failed_payments"], usd["failed_payment_amount"]) == (2, 9800)
    assert metrics[("usd", "pro")]["gross_revenue"] == 15_000  # unattributed only in total
    assert metrics[("eur", "*")]["net_revenue"] == 3000
    assert metrics[("eur", "pro")]["refunds"] == 0


def test_rates_are_zero_without_a_start_of_day_base() -> None:
    total = by_scope(compute_day_metrics([SubscriptionDay("a", None, state())]))[("usd", "*")]
    assert total["logo_churn_rate"] == total["revenue_churn_rate"] == "0.000000"


def test_totals_come_first_and_currencies_stay_apart() -> None:
    subs = [
        SubscriptionDay("a", None, state(1, plan="pro", currency="usd")),
        SubscriptionDay("b", None, state(2, plan="starter", currency="eur")),
    ]
    assert [(m.currency, m.plan) for m in compute_day_metrics(subs)] == [
        ("eur", "*"),
        ("eur", "starter"),
        ("usd", "*"),
        ("usd", "pro"),
    ]


STATUSES = ["active", "past_due", "trialing", "canceled", "unpaid", "incomplete", "paused"]
states = st.builds(
    SubscriptionState,
    customer_id=st.integers(1, 6),
    status=st.sampled_from(STATUSES),
    plan=st.sampled_from(["free", "pro", "team", None]),
    currency=st.sampled_from(["usd", "eur"]),
    unit_amount=st.integers(0, 10_000_000),
    quantity=st.integers(1, 50),
    interval=st.sampled_from(["day", "week", "month", "year"]),
    interval_count=st.integers(1, 12),
    percent_off=st.none() | st.decimals(0, 100, places=2),
    amount_off=st.none() | st.integers(0, 1_000_000),
)
days = st.lists(
    st.builds(
        SubscriptionDay,
        subscription_id=st.uuids().map(str),
        start=st.none() | states,
        end=st.none() | states,
        is_new=st.booleans(),
    ),
    max_size=25,
)


@given(days)
def test_total_mrr_is_the_sum_of_plan_mrr_and_never_negative(subs: list[SubscriptionDay]) -> None:
    metrics = compute_day_metrics(subs)
    for currency in {m.currency for m in metrics}:
        total = next(m for m in metrics if m.currency == currency and m.plan == "*")
        plans = [m for m in metrics if m.currency == currency and m.plan != "*"]
        for key in ("mrr", "active_subscriptions", "new_subscriptions", "churned_subscriptions"):
            assert total.values[key] == sum(int(p.values[key]) for p in plans)
    for m in metrics:
        assert int(m.values["mrr"]) >= 0 and m.values["arr"] == 12 * int(m.values["mrr"])
        for rate_key in ("logo_churn_rate", "revenue_churn_rate"):
            assert Decimal(0) <= Decimal(str(m.values[rate_key])) <= Decimal(1)


@given(days, st.permutations(range(25)))
def test_metrics_do_not_depend_on_input_order(
    subs: list[SubscriptionDay], order: list[int]
) -> None:
    shuffled = [subs[i] for i in order if i < len(subs)]
    assert compute_day_metrics(shuffled) == compute_day_metrics(subs)


@given(
    unit_amount=st.integers(0, 10**9),
    quantity=st.integers(1, 500),
    interval=st.sampled_from(["day", "week", "month", "year"]),
    interval_count=st.integers(1, 3),
    percent_off=st.none() | st.decimals(min_value=0, max_value=100, places=2),
    amount_off=st.none() | st.integers(0, 10**8),
)
def test_monthly_amount_is_the_exact_value_rounded_half_even_once(
    unit_amount: int,
    quantity: int,
    interval: str,
    interval_count: int,
    percent_off: Decimal | None,
    amount_off: int | None,
) -> None:
    subject = replace(
        state(unit_amount=unit_amount, quantity=quantity),
        interval=interval,
        interval_count=interval_count,
        percent_off=percent_off,
        amount_off=amount_off,
    )
    exact = Fraction(unit_amount * quantity) * (1 - Fraction(percent_off or 0) / 100)
    exact = max(exact - (amount_off or 0), Fraction(0))
    per_year = {"day": 365, "week": 52, "month": 12, "year": 1}[interval]
    assert monthly_amount(subject) == round(exact * per_year / (12 * interval_count))
