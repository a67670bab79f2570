"""Usage alerts at 80, 90 and 100% of a limit: once per customer, metric, period and threshold.

A scheduled task scans the current period with one grouped query per meter; the alert rows'
unique key makes a second scan (or a second scheduler) fire nothing new. When a customer
jumps past several thresholds at once, every crossed row is written but one e-mail goes out,
for the highest.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from agents.context import AgentContext
from agents.metering.limits import AppliedLimit, crossed_thresholds, limit_of
from agents.metering.meters import Meter, format_quantity, load_meters
from agents.metering.periods import Period, period_of
from agents.notification.requests import notify
from agents.provisioning.plans import load_catalog
from core.clock import utcnow
from db.audit import record_audit
from db.models import UsageAlert
from db.repositories.metering import entitlement_rows, usage_totals
from db.statements import insert_ignore

ACTOR = "metering"


def raise_usage_alerts(ctx: AgentContext, _payload: dict[str, Any]) -> dict[str, Any]:
    """Fire every threshold newly crossed in the current period; returns how many fired."""
    now = utcnow()
    period = period_of(now)
    meters = load_meters(ctx.settings.meters_file)
    plans = load_catalog(ctx.settings.catalog_file)
    fired = 0
    for meter in meters.meters.values():
        totals = usage_totals(
            ctx.session,
            metric=meter.metric,
            aggregation=meter.aggregation,
            field=meter.field,
            start=period.start,
            end=period.end,
        )
        rows = entitlement_rows(ctx.session, meter.metric, list(totals))
        already = _alerted(ctx, meter.metric, period, list(totals))
        for customer_id, used in totals.items():
            limit = limit_of(rows.get(customer_id), plans, meter.metric, period, now)
            due = [
                threshold
                for threshold in crossed_thresholds(used, limit.value)
                if (customer_id, threshold) not in already
            ]
            new = [t for t in due if _claim(ctx, customer_id, limit, t, used)]
            if new:
                _announce(ctx, customer_id, meter, limit, used, max(new))
                fired += 1
    return {"period": period.label, "alerts": fired}


def _alerted(
    ctx: AgentContext, metric: str, period: Period, customer_ids: list[int]
) -> set[tuple[int, int]]:
    if not customer_ids:
        return set()
    rows = ctx.session.execute(
        select(UsageAlert.customer_id, UsageAlert.threshold).where(
            UsageAlert.metric == metric,
            UsageAlert.period_start == period.start,
            UsageAlert.customer_id.in_(customer_ids),
        )
    )
    return {(int(cid), int(threshold)) for cid, threshold in rows}


def _claim(
    ctx: AgentContext, customer_id: int, limit: AppliedLimit, threshold: int, used: Decimal
) -> bool:
    """Write the alert row; False when another run wrote it first."""
    assert limit.value is not None
    created = insert_ignore(
        ctx.session,
        UsageAlert,
        {
            "customer_id": customer_id,
            "metric": limit.metric,
            "period_start": limit.period.start,
            "threshold": threshold,
            "used": used,
            "limit_value": limit.value,
            "created_at": utcnow(),
        },
    )
    return created is not None


def _announce(
    ctx: AgentContext,
    customer_id: int,
    meter: Meter,
    limit: AppliedLimit,
    used: Decimal,
    threshold: int,
) -> None:
    """The customer's e-mail and the operators' audit entry, in the task's transaction."""
    facts = {
        "feature": meter.unit,
        "used": format_quantity(used),
        "limit": f"{limit.value:,}",
        "plan": limit.plan or "current",
        "threshold": threshold,
        "period": limit.period.label,
    }
    notify(
        ctx,
        key=f"usage_alert:{customer_id}:{meter.metric}:{limit.period.label}:{threshold}",
        template="usage_alert",
        customer_id=customer_id,
        context=facts,
    )
    record_audit(
        ctx.session,
        actor=ACTOR,
        action="usage.alert",
        subject_type="customer",
        subject_id=customer_id,
        data={"metric": meter.metric, "used": str(used), "limit": limit.value, **facts},
        detail=f"{meter.metric} reached {threshold}% of its limit of {limit.value:,}",
    )
