"""What the next invoice of a subscription charges, line by line, before discount and tax.

- base: the subscription's recurring price for the next period, times its quantity;
- usage: usage prices of the subscribed catalog product (a `meter`), for the usage of the
  current subscription period so far, priced by the engine (billed in arrears, as Stripe does);
- overage: invoice items for usage beyond the plan's limits that metering already sent to
  Stripe since the period started (pending on the next invoice), plus the overage of the open
  usage month so far when that month closes before the renewal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.catalog.models import Product
from agents.invoices.engine_prices import engine_price
from agents.metering.limits import limit_of
from agents.metering.meters import load_meters
from agents.metering.overage import overage_amount
from agents.metering.periods import period_of
from agents.pricing.amounts import amount_for
from agents.provisioning.plans import load_catalog as load_plans
from core.calendar_months import MONTHS_PER_INTERVAL, add_interval
from core.settings import Settings
from db.models import OverageStatus, Subscription, UsageOverage
from db.repositories.metering import entitlement_rows, usage_totals

ChargeKind = Literal["base", "usage", "overage"]
# Metering closes a usage month this long after it ends (scheduler/jobs.py USAGE_CLOSE_GRACE),
# so only a month ending this much before the renewal is billed on the renewal invoice.
USAGE_CLOSE_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Charge:
    kind: ChargeKind
    description: str
    amount: int
    quantity: Decimal
    period_start: datetime | None
    period_end: datetime | None


def next_period(sub: Subscription) -> tuple[datetime | None, datetime | None]:
    """The period the renewal invoice bills: from the current period's end, one interval on."""
    start = sub.current_period_end
    if start is None or sub.interval not in MONTHS_PER_INTERVAL:
        return start, None
    return start, add_interval(start, sub.interval, sub.interval_count)


def base_charge(sub: Subscription) -> Charge:
    start, end = next_period(sub)
    return Charge(
        "base",
        f"{sub.plan or 'Subscription'} x {sub.quantity}",
        sub.unit_amount * sub.quantity,
        Decimal(sub.quantity),
        start,
        end,
    )


def usage_charges(
    session: Session,
    settings: Settings,
    sub: Subscription,
    product: Product | None,
    at: datetime,
) -> list[Charge]:
    """The product's usage prices in the subscription's currency, for usage since period start."""
    if product is None or sub.current_period_start is None:
        return []
    meters = load_meters(settings.meters_file).meters
    charges = []
    for price in product.prices:
        meter = getattr(price, "meter", None)
        if meter is None or price.currency != sub.currency:
            continue
        # Aggregated as the meters file says (seats: the period's max); unknown meters: a sum.
        known = meters.get(meter)
        used = usage_totals(
            session,
            metric=meter,
            aggregation=known.aggregation if known else "sum",
            field=known.field if known else None,
            start=sub.current_period_start,
            end=at,
            customer_ids=[sub.customer_id],
        ).get(sub.customer_id, Decimal(0))
        amount = amount_for(engine_price(price), used).amount
        label = f"{price.nickname or price.key}: {used.normalize():f} {meter}"
        charges.append(Charge("usage", label, amount, used, sub.current_period_start, at))
    return charges


def overage_charges(
    session: Session, settings: Settings, sub: Subscription, at: datetime
) -> list[Charge]:
    """Overage items on Stripe waiting for the next invoice, and the open month's projection."""
    since = sub.current_period_start or at
    billed = session.scalars(
        select(UsageOverage)
        .where(
            UsageOverage.customer_id == sub.customer_id,
            UsageOverage.status == OverageStatus.BILLED,
            UsageOverage.currency == sub.currency,
            UsageOverage.updated_at >= since,
        )
        .order_by(UsageOverage.period_start, UsageOverage.metric)
    )
    charges = [
        Charge(
            "overage",
            f"{row.metric} over the limit of {row.limit_value:,}",
            row.amount,
            row.overage,
            row.period_start,
            row.period_end,
        )
        for row in billed
    ]
    month = period_of(at)
    if (
        sub.current_period_end is not None
        and month.end + USAGE_CLOSE_GRACE <= sub.current_period_end
    ):
        charges += _projected_overage(session, settings, sub, at)
    return charges


def _projected_overage(
    session: Session, settings: Settings, sub: Subscription, at: datetime
) -> list[Charge]:
    """Usage beyond the limit in the open month so far, priced as metering will bill it."""
    month = period_of(at)
    plans = load_plans(settings.catalog_file)
    charges = []
    for meter in load_meters(settings.meters_file).meters.values():
        price = meter.overage
        if price is None or price.currency != sub.currency:
            continue
        used = usage_totals(
            session,
            metric=meter.metric,
            aggregation=meter.aggregation,
            field=meter.field,
            start=month.start,
            end=at,
            customer_ids=[sub.customer_id],
        ).get(sub.customer_id, Decimal(0))
        row = entitlement_rows(session, meter.metric, [sub.customer_id]).get(sub.customer_id)
        limit = limit_of(row, plans, meter.metric, month, at)
        if limit.value is None or used <= limit.value:
            continue
        over = used - limit.value
        description = f"{meter.metric} over the limit of {limit.value:,} (so far)"
        amount = overage_amount(over, price)
        charges.append(Charge("overage", description, amount, over, month.start, month.end))
    return charges
