"""Plan recommendations from the last closed usage months: pure rules over catalog numbers.

Up: a limit used at HIGH_PERCENT or more in every month -> the next plan up when, by the
catalog's prices and overage rates, it would have cost less than staying; a contact-sales plan
-> talk to sales. Down: every limit used under LOW_PERCENT in every month -> the lower plan
that would have cost least, when it fits the usage and costs less than staying.
Nothing is recommended unless the numbers say so; each recommendation carries them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from agents.metering.limits import percent_used
from agents.metering.meters import Meter
from agents.metering.overage import overage_amount
from agents.portal.plan_options import PlanOption
from core.money import format_money

HIGH_PERCENT = Decimal(90)
LOW_PERCENT = Decimal(20)
MONTHS = 3


@dataclass(frozen=True)
class MonthUsage:
    period: str  # YYYY-MM
    used: Mapping[str, Decimal]  # metric -> the month's usage


@dataclass(frozen=True)
class Recommendation:
    code: str  # upgrade_saves | talk_to_sales | downgrade_saves
    message: str
    numbers: dict[str, Any]


@dataclass(frozen=True)
class _Situation:
    """A customer on `current`, the plans on offer, and the months looked at."""

    current: PlanOption
    ladder: Sequence[PlanOption]
    meters: Mapping[str, Meter]
    months: Sequence[MonthUsage]
    currency: str
    shares: Mapping[str, list[Decimal]]  # limited metric -> percent of the limit, per month

    def cost(self, option: PlanOption, *, must_fit: bool) -> int | None:
        """What the months would have cost on `option`, all together."""
        costs = [
            month_cost(option, self.meters, m, self.currency, must_fit=must_fit)
            for m in self.months
        ]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)

    def money(self, amount: int) -> str:
        return format_money(amount, self.currency)

    def numbers(self, target: PlanOption, **more: Any) -> dict[str, Any]:
        return {
            "plan": self.current.key,
            "to_plan": target.key,
            "months": [m.period for m in self.months],
            **more,
        }


def recommend(
    current: PlanOption,
    ladder: Sequence[PlanOption],
    meters: Mapping[str, Meter],
    months: Sequence[MonthUsage],
    currency: str,
) -> list[Recommendation]:
    """What the last MONTHS closed months (oldest first) suggest for a customer on `current`."""
    if len(months) != MONTHS or current.contact_sales:
        return []
    shares = {
        metric: [percent_used(month.used.get(metric, Decimal(0)), limit) for month in months]
        for metric, limit in current.limits.items()
        if metric in meters and limit is not None and limit > 0
    }
    seen = _Situation(current, ladder, meters, months, currency, shares)
    found = [_up(seen), _down(seen)]
    return [r for r in found if r is not None]


def _up(seen: _Situation) -> Recommendation | None:
    high = {m: s for m, s in seen.shares.items() if all(p >= HIGH_PERCENT for p in s)}
    price = seen.current.monthly_price or 0
    above = [o for o in seen.ladder if o.contact_sales or (o.monthly_price or 0) > price]
    if not high or not above:
        return None
    metric = max(high, key=lambda m: min(high[m]))
    target = above[0]
    lead = (
        f"You used at least {_whole(min(high[metric]))}% of {seen.current.name}'s "
        f"{seen.meters[metric].unit} in each of the last {len(seen.months)} months"
    )
    numbers = seen.numbers(
        target,
        metric=metric,
        limit=seen.current.limits[metric],
        percent_used=[str(p) for p in high[metric]],
    )
    if target.contact_sales:
        message = f"{lead}: {target.name} is sized for that; talk to our sales team."
        return Recommendation("talk_to_sales", message, numbers)
    staying = seen.cost(seen.current, must_fit=False)
    switching = seen.cost(target, must_fit=True)
    if staying is None or switching is None or switching >= staying:
        return None
    message = (
        f"{lead}: {target.name} would have cost {seen.money(switching)} instead of "
        f"{seen.money(staying)}, {seen.money(staying - switching)} less."
    )
    numbers |= _costs(staying, switching, seen.currency)
    return Recommendation("upgrade_saves", message, numbers)


def _down(seen: _Situation) -> Recommendation | None:
    price = seen.current.monthly_price
    if not seen.shares or not price:
        return None
    if any(p >= LOW_PERCENT for s in seen.shares.values() for p in s):
        return None
    staying = seen.cost(seen.current, must_fit=False)
    priced = []
    for option in seen.ladder:
        if option.monthly_price is None or option.monthly_price >= price:
            continue
        cost = seen.cost(option, must_fit=True)
        if cost is not None:
            priced.append((cost, -option.monthly_price, option))
    if staying is None or not priced:
        return None
    cost, _, target = min(priced, key=lambda item: item[:2])  # cheapest; on a tie, the bigger
    if cost >= staying:
        return None
    units = _listed([seen.meters[m].unit for m in seen.shares])
    message = (
        f"You used under {_whole(LOW_PERCENT)}% of {seen.current.name}'s {units} in each of "
        f"the last {len(seen.months)} months: {target.name} would have cost {seen.money(cost)} "
        f"instead of {seen.money(staying)}, saving {seen.money(staying - cost)}."
    )
    numbers = seen.numbers(
        target,
        percent_used={m: [str(p) for p in s] for m, s in seen.shares.items()},
        **_costs(staying, cost, seen.currency),
    )
    return Recommendation("downgrade_saves", message, numbers)


def month_cost(
    option: PlanOption,
    meters: Mapping[str, Meter],
    month: MonthUsage,
    currency: str,
    *,
    must_fit: bool,
) -> int | None:
    """The plan's price plus the overage the month's usage would have cost on it, in minor
    units; None if it had no price, or (when `must_fit`) usage past a limit without overage."""
    if option.monthly_price is None:
        return None
    total = option.monthly_price
    for metric, used in month.used.items():
        limit = option.limits.get(metric)
        meter = meters.get(metric)
        if limit is None or meter is None or used <= limit:
            continue
        price = meter.overage
        if price is None or price.currency != currency:
            if must_fit:
                return None
            continue
        total += overage_amount(used - limit, price)
    return total


def _costs(staying: int, switching: int, currency: str) -> dict[str, Any]:
    return {
        "currency": currency,
        "cost_staying": staying,
        "cost_switching": switching,
        "saving": staying - switching,
    }


def _listed(names: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _whole(percent: Decimal) -> str:
    """Whole percent, rounded down: "at least 91%" must hold for 91.9%."""
    return f"{percent.quantize(Decimal(1), rounding=ROUND_DOWN):f}"
