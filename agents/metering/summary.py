"""A customer's usage of one period, per meter, with the limit that applies to each."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from agents.metering.limits import evaluate, limit_of
from agents.metering.meters import MeterCatalog
from agents.metering.periods import Period
from agents.provisioning.plans import PlanCatalog
from core.errors import InvalidInput, NotFound
from db.models import Customer
from db.repositories.metering import entitlement_rows, usage_totals


def usage_summary(
    session: Session,
    meters: MeterCatalog,
    plans: PlanCatalog,
    *,
    customer_id: int,
    period: Period,
    now: datetime,
    metric: str | None = None,
) -> list[dict[str, Any]]:
    """One row per meter (or just `metric`): used, limit, remaining, percent used."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    if metric is not None and metric not in meters.meters:
        raise InvalidInput(f"no meter {metric!r}", code="unknown_metric")
    chosen = [meters.meters[metric]] if metric else list(meters.meters.values())
    rows = []
    for meter in chosen:
        used = usage_totals(
            session,
            metric=meter.metric,
            aggregation=meter.aggregation,
            field=meter.field,
            start=period.start,
            end=period.end,
            customer_ids=[customer_id],
        ).get(customer_id, Decimal(0))
        grant = entitlement_rows(session, meter.metric, [customer_id]).get(customer_id)
        state = evaluate(meter, used, Decimal(0), limit_of(grant, plans, meter.metric, period, now))
        rows.append(
            {
                "metric": meter.metric,
                "aggregation": meter.aggregation,
                "unit": meter.unit,
                "period": period.label,
                **{k: v for k, v in state.as_dict().items() if k != "allowed"},
            }
        )
    return rows
