"""Plan limits per metric and period: which limit applies, and whether more usage fits.

The limit is the customer's entitlement row for the metric (kept by provisioning); without
a row, the catalog's free plan. A revoked row (or a grace period that ran out) allows nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy.orm import Session

from agents.metering.meters import Meter, MeterCatalog
from agents.metering.periods import Period, period_of
from agents.provisioning.plans import PlanCatalog
from core.clock import utcnow
from core.errors import InvalidInput, NotFound
from db.models import Customer, Entitlement, EntitlementStatus
from db.repositories.metering import entitlement_rows, usage_totals

ALERT_THRESHOLDS = (80, 90, 100)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class AppliedLimit:
    """The limit of `metric` for the period; `value` None means unlimited."""

    metric: str
    value: int | None
    plan: str | None
    source: str  # entitlement | revoked | free_plan | unmetered
    period: Period

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "limit": self.value,
            "plan": self.plan,
            "source": self.source,
            "period_start": self.period.start.isoformat(),
            "period_end": self.period.end.isoformat(),
        }


@dataclass(frozen=True)
class LimitCheck:
    allowed: bool
    used: Decimal
    remaining: Decimal | None
    percent_used: Decimal | None
    limit: AppliedLimit

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "used": str(self.used),
            "remaining": None if self.remaining is None else str(self.remaining),
            "percent_used": None if self.percent_used is None else str(self.percent_used),
            "limit": self.limit.as_dict(),
        }


def limit_of(
    row: Entitlement | None, plans: PlanCatalog, metric: str, period: Period, now: datetime
) -> AppliedLimit:
    """The limit a grant row (or, without one, the free plan) sets for `metric`."""
    if row is None:
        grants = plans.free.grants
        if metric not in grants:
            return AppliedLimit(metric, None, plans.free_plan, "unmetered", period)
        return AppliedLimit(metric, grants[metric], plans.free_plan, "free_plan", period)
    holds = row.status == EntitlementStatus.ACTIVE or (
        row.status == EntitlementStatus.GRACE and (row.grace_until is None or row.grace_until > now)
    )
    if not holds:
        return AppliedLimit(metric, 0, row.plan, "revoked", period)
    return AppliedLimit(metric, row.limit_value, row.plan, "entitlement", period)


def percent_used(used: Decimal, limit: int) -> Decimal:
    """Share of the limit used, in percent with two decimals (a zero limit is 100% used)."""
    if limit <= 0:
        return HUNDRED
    return (used * HUNDRED / limit).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def crossed_thresholds(used: Decimal, limit: int | None) -> list[int]:
    """The alert thresholds (percent of the limit) that `used` has reached."""
    if limit is None or limit <= 0:
        return []
    return [t for t in ALERT_THRESHOLDS if used * HUNDRED >= limit * t]


def evaluate(meter: Meter, used: Decimal, quantity: Decimal, limit: AppliedLimit) -> LimitCheck:
    """Would `quantity` more fit? A max meter compares the new value itself, others add it."""
    if limit.value is None:
        return LimitCheck(True, used, None, None, limit)
    after = max(used, quantity) if meter.aggregation == "max" else used + quantity
    remaining = max(Decimal(limit.value) - used, Decimal(0))
    return LimitCheck(after <= limit.value, used, remaining, percent_used(used, limit.value), limit)


def check(
    session: Session,
    meters: MeterCatalog,
    plans: PlanCatalog,
    *,
    customer_id: int,
    metric: str,
    quantity: Decimal = Decimal(1),
    now: datetime | None = None,
) -> LimitCheck:
    """Whether `customer_id` may use `quantity` more of `metric` in the current period."""
    now = now or utcnow()
    meter = meters.meters.get(metric)
    if meter is None:
        raise InvalidInput(f"no meter {metric!r}", code="unknown_metric")
    if quantity < 0:
        raise InvalidInput("quantity must not be negative", code="negative_quantity")
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    period = period_of(now)
    row = entitlement_rows(session, metric, [customer_id]).get(customer_id)
    used = usage_totals(
        session,
        metric=metric,
        aggregation=meter.aggregation,
        field=meter.field,
        start=period.start,
        end=period.end,
        customer_ids=[customer_id],
    ).get(customer_id, Decimal(0))
    return evaluate(meter, used, quantity, limit_of(row, plans, metric, period, now))
