"""MRR movements and trial outcomes of one UTC day, per (currency, plan) scope. Pure.

A customer's MRR in a scope is the sum of the monthly amounts (`metrics.monthly_amount`:
discounts applied, yearly/weekly/daily prices normalised to a month, half-even once per
subscription) of its paying subscriptions in that scope; trials are not paying, so a trial
counts 0 until it converts. Comparing the start of the day with its end, per customer:

- 0 -> y > 0: `new`, or `reactivation` when the customer had paid in that scope before the day
- x > 0 -> 0: `churn` (x)
- x -> y, both above 0: `expansion` (y - x) or `contraction` (x - y)

Per plan, a plan change is churn of the old plan and new (or reactivation) of the new one; in
the all-plans total ("*") it is expansion or contraction. Changes that undo each other within
the day do not show. By construction, in every scope, with MRR(start) the `mrr_start` of
`metrics`: MRR(end) = MRR(start) + new + expansion - contraction - churn + reactivation.

A trial ended on the day when the subscription was trialing at 00:00 and is not at the day's
end; it converted when it is paying (active or past_due) at the end.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from agents.analytics.metrics import (
    ALL_PLANS,
    PAYING,
    UNKNOWN_PLAN,
    SubscriptionDay,
    SubscriptionState,
    monthly_amount,
)

MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")
# The snapshot keys this module adds; all but the trial counts are money (minor units).
MOVEMENT_METRICS = (
    *(f"mrr_{kind}" for kind in MOVEMENTS),
    "mrr_net",
    "trials_ended",
    "trials_converted",
)
# With the start-of-day MRR (from `metrics`): the revenue columns of reports.
REVENUE_METRICS = ("mrr_start", *MOVEMENT_METRICS)
REVENUE_MONEY = REVENUE_METRICS[:-2]
# (currency, plan or "*")
Scope = tuple[str, str]
# (customer_id, currency, plan or "*")
CustomerScope = tuple[int, str, str]
RevenueValues = dict[str, int]


@dataclass(frozen=True)
class TrialEnding:
    """A trial that ended on the day, and the status its subscription ended the day in."""

    currency: str
    plan: str | None
    status: str


def trial_endings(days: Iterable[SubscriptionDay]) -> list[TrialEnding]:
    """The day's trial endings, with the status each ended the day in."""
    return [
        TrialEnding(d.end.currency, d.end.plan, d.end.status)
        for d in days
        if d.trial_ended and d.end is not None
    ]


def empty_values() -> RevenueValues:
    """The movement and trial keys of a scope with nothing to count."""
    return dict.fromkeys(MOVEMENT_METRICS, 0)


def customer_scopes(customer_id: int, currency: str, plan: str | None) -> list[CustomerScope]:
    """The customer's all-plans scope and its plan scope in `currency`."""
    return [(customer_id, currency, ALL_PLANS), (customer_id, currency, plan or UNKNOWN_PLAN)]


def customer_mrr(states: Iterable[SubscriptionState | None]) -> dict[CustomerScope, int]:
    """MRR per customer and scope over the paying states given."""
    totals: defaultdict[CustomerScope, int] = defaultdict(int)
    for state in states:
        if state is None or state.status not in PAYING:
            continue
        amount = monthly_amount(state)
        for key in customer_scopes(state.customer_id, state.currency, state.plan):
            totals[key] += amount
    return dict(totals)


@dataclass(frozen=True)
class DayMRR:
    """MRR per customer and scope at 00:00 and at the end of the day."""

    start: dict[CustomerScope, int]
    end: dict[CustomerScope, int]


def _customer_of(day: SubscriptionDay) -> int:
    state = day.end or day.start
    assert state is not None, "a subscription day has a state at one end at least"
    return state.customer_id


def day_mrr(days: Iterable[SubscriptionDay]) -> DayMRR:
    """Only customers with a subscription that changed during the day: the others, the
    great majority on any day, have no movement and cost nothing here."""
    states = list(days)
    touched = {_customer_of(d) for d in states if d.start != d.end}
    mine = [d for d in states if _customer_of(d) in touched]
    return DayMRR(customer_mrr(d.start for d in mine), customer_mrr(d.end for d in mine))


def returning_candidates(mrr: DayMRR) -> set[int]:
    """Customers who have no MRR at 00:00 and some at the day's end in a scope: only their
    history decides between new and reactivation."""
    return {key[0] for key, amount in mrr.end.items() if amount > 0 and not mrr.start.get(key)}


def classify(before: int, after: int, paid_before: bool) -> tuple[str, int] | None:
    """The movement turning a customer's MRR `before` into `after`, with its amount."""
    if before == after:
        return None
    if before == 0:
        return ("reactivation" if paid_before else "new"), after
    if after == 0:
        return "churn", before
    return ("expansion", after - before) if after > before else ("contraction", before - after)


def revenue_values(
    mrr: DayMRR,
    paid_before: Collection[CustomerScope],
    trials: Iterable[TrialEnding] = (),
) -> dict[Scope, RevenueValues]:
    """Movement and trial figures per scope. `paid_before`: the (customer, currency, scope)
    triples of `returning_candidates` that had MRR at some moment before the day."""
    start, end = mrr.start, mrr.end
    out: defaultdict[Scope, RevenueValues] = defaultdict(empty_values)
    for key in start.keys() | end.keys():
        before, after = start.get(key, 0), end.get(key, 0)
        values = out[key[1:]]
        values["mrr_net"] += after - before
        movement = classify(before, after, key in paid_before)
        if movement is not None:
            kind, amount = movement
            values[f"mrr_{kind}"] += amount
    for trial in trials:
        for _, currency, plan in customer_scopes(0, trial.currency, trial.plan):
            out[(currency, plan)]["trials_ended"] += 1
            out[(currency, plan)]["trials_converted"] += int(trial.status in PAYING)
    return dict(out)
