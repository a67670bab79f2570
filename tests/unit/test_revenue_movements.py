"""MRR movements of a day: hand-computed cases and the MRR identity for any input."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.metrics import SubscriptionDay, SubscriptionState, compute_day_metrics
from agents.analytics.movements import (
    TrialEnding,
    classify,
    day_mrr,
    empty_values,
    returning_candidates,
    revenue_values,
)
from agents.analytics.movers import report_lines


def state(
    customer_id: int = 1, status: str = "active", plan: str = "pro", **kw: object
) -> SubscriptionState:
    values: dict[str, object] = {"currency": "usd", "unit_amount": 9900} | kw
    return SubscriptionState(customer_id, status, plan, **values)  # type: ignore[arg-type]


def day(
    sid: str, start: SubscriptionState | None, end: SubscriptionState | None
) -> SubscriptionDay:
    return SubscriptionDay(sid, start, end, is_new=start is None)


def total(values: dict[tuple[str, str], dict[str, int]], plan: str = "*") -> dict[str, int]:
    return values[("usd", plan)]


def test_classify_each_movement() -> None:
    assert classify(0, 1900, paid_before=False) == ("new", 1900)
    assert classify(0, 1900, paid_before=True) == ("reactivation", 1900)
    assert classify(1900, 9900, paid_before=True) == ("expansion", 8000)
    assert classify(9900, 1900, paid_before=True) == ("contraction", 8000)
    assert classify(1900, 0, paid_before=True) == ("churn", 1900)
    assert classify(1900, 1900, paid_before=True) is None


def test_a_day_with_every_movement_by_hand() -> None:
    days = [
        # customer 1: new on Pro yearly, 99900 / 12 = 8325
        day("s1", None, state(1, unit_amount=99_900, interval="year")),
        # customer 2: Starter 1900 -> Pro 9900 (upgrade: expansion 8000 in the total)
        day("s2", state(2, plan="starter", unit_amount=1900), state(2, unit_amount=9900)),
        # customer 3: Pro -> Starter (downgrade: contraction 8000)
        day("s3", state(3, unit_amount=9900), state(3, plan="starter", unit_amount=1900)),
        # customer 4: cancels Pro (churn 9900)
        day("s4", state(4), state(4, status="canceled")),
        # customer 5: had paid before, comes back on Starter (reactivation 1900)
        day("s5", None, state(5, plan="starter", unit_amount=1900)),
        # customer 6: unchanged Pro with a 50% discount (4950 at both ends)
        day("s6", state(6, percent_off=Decimal(50)), state(6, percent_off=Decimal(50))),
        # customer 7: starts a trial: no MRR until it converts
        day("s7", None, state(7, status="trialing")),
    ]
    # 2 and 3 also start at 0 in their new plan's scope: their plan history decides there.
    assert returning_candidates(day_mrr(days)) == {1, 2, 3, 5}
    paid_before = {(5, "usd", "*"), (5, "usd", "starter")}
    values = revenue_values(day_mrr(days), paid_before)
    assert total(values) == {
        "mrr_new": 8325,
        "mrr_expansion": 8000,
        "mrr_contraction": 8000,
        "mrr_churn": 9900,
        "mrr_reactivation": 1900,
        "mrr_net": 8325 - 9900 + 1900,  # -1675
        "trials_ended": 0,
        "trials_converted": 0,
    }
    # MRR at the end by hand: 8325 (s1) + 9900 (s2) + 1900 (s3) + 1900 (s5) + 4950 (s6)
    metrics = {(m.currency, m.plan): m.values for m in compute_day_metrics(days)}
    assert metrics[("usd", "*")]["mrr_start"] == 1900 + 9900 + 9900 + 4950  # 26650
    assert metrics[("usd", "*")]["mrr"] == 26_975 == 26_650 + 8325 + 8000 - 8000 - 9900 + 1900


def test_a_plan_change_is_churn_and_new_per_plan() -> None:
    days = [day("s2", state(2, plan="starter", unit_amount=1900), state(2, unit_amount=9900))]
    values = revenue_values(day_mrr(days), paid_before=set())
    assert (total(values, "starter")["mrr_churn"], total(values, "pro")["mrr_new"]) == (1900, 9900)
    assert total(values)["mrr_expansion"] == 8000


def test_two_subscriptions_of_one_customer_net_out() -> None:
    """A customer who swaps one subscription for another of the same price has no movement."""
    days = [
        day("old", state(1), state(1, status="canceled")),
        day("new", None, state(1)),
    ]
    values = revenue_values(day_mrr(days), paid_before=set())
    assert returning_candidates(day_mrr(days)) == set()
    assert total(values) == empty_values()


def test_a_second_subscription_of_a_paying_customer_is_expansion() -> None:
    """The unchanged subscription still counts in the customer's MRR at both ends."""
    days = [day("kept", state(1), state(1)), day("added", None, state(1, unit_amount=1900))]
    values = revenue_values(day_mrr(days), paid_before=set())
    assert (total(values)["mrr_new"], total(values)["mrr_expansion"]) == (0, 1900)


def test_trial_conversion_is_new_mrr_and_counted_per_plan() -> None:
    days = [day("t1", None, state(1, unit_amount=1900, plan="starter"))]
    trials = [
        TrialEnding("usd", "starter", "active"),
        TrialEnding("usd", "starter", "canceled"),
        TrialEnding("usd", "pro", "past_due"),
    ]
    values = revenue_values(day_mrr(days), paid_before=set(), trials=trials)
    assert (total(values)["trials_ended"], total(values)["trials_converted"]) == (3, 2)
    starter = total(values, "starter")
    assert (starter["trials_ended"], starter["trials_converted"], starter["mrr_new"]) == (
        2,
        1,
        1900,
    )


def test_yearly_price_is_normalised_once_half_even() -> None:
    # 18 / 12 = 1.5 -> 2 (half-even), 30 / 12 = 2.5 -> 2
    days = [
        day("a", None, state(1, unit_amount=18, interval="year")),
        day("b", None, state(2, unit_amount=30, interval="year")),
    ]
    assert total(revenue_values(day_mrr(days), set()))["mrr_new"] == 4


def states(customer_id: int) -> st.SearchStrategy[SubscriptionState | None]:
    return st.none() | st.builds(
        state,
        customer_id=st.just(customer_id),
        status=st.sampled_from(["active", "past_due", "trialing", "canceled", "unpaid"]),
        plan=st.sampled_from(["starter", "pro"]),
        unit_amount=st.integers(0, 200_000),
        interval=st.sampled_from(["month", "year", "week"]),
    )


subscription_days = st.lists(
    st.integers(1, 4)
    .flatmap(lambda c: st.tuples(states(c), states(c)))
    .filter(lambda pair: pair != (None, None)),
    max_size=12,
)


@given(subscription_days, st.sets(st.integers(1, 4)))
def test_mrr_identity_holds_in_every_scope(
    pairs: list[tuple[SubscriptionState | None, SubscriptionState | None]], returning: set[int]
) -> None:
    days = [day(f"s{i}", start, end) for i, (start, end) in enumerate(pairs)]
    paid_before = {(c, "usd", p) for c in returning for p in ("*", "starter", "pro")}
    values = revenue_values(day_mrr(days), paid_before)
    metrics = {(m.currency, m.plan): m.values for m in compute_day_metrics(days)}
    for scope in metrics.keys() | values.keys():
        v = values.get(scope, empty_values())
        gains = v["mrr_new"] + v["mrr_expansion"] + v["mrr_reactivation"]
        losses = v["mrr_contraction"] + v["mrr_churn"]
        start, end = int(metrics[scope]["mrr_start"]), int(metrics[scope]["mrr"])
        assert start + gains - losses == end
        assert v["mrr_net"] == gains - losses
        assert all(v[key] >= 0 for key in v if key != "mrr_net")


def test_narrative_headlines_name_the_days_movements() -> None:
    today = {
        "mrr": 1000, "net_revenue": 0, "gross_revenue": 0, "refunds": 0, "new_subscriptions": 1,
        "churned_subscriptions": 0, "active_subscriptions": 1, "failed_payments": 0,
    } | empty_values() | {"mrr_new": 1000, "mrr_churn": 250}  # fmt: skip
    texts = [line.text for line in report_lines({("usd", "*"): today}, {})]
    assert "MRR movements: new USD 10.00, churn USD 2.50." in texts
    quiet = today | {"mrr_new": 0, "mrr_churn": 0}
    assert not any("movements" in line.text for line in report_lines({("usd", "*"): quiet}, {}))
