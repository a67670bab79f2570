"""Overage at period end: usage beyond the limit becomes one Stripe invoice item per customer,
metric and period.

`usage.close_period` computes every overage of a closed period set-based and writes one row
each (unique per customer, metric and period), submitting one `usage.bill_overage` task per
new row. That task claims `usage_overage:<customer>:<metric>:<period>` in the external-call
ledger, then asks Stripe for the invoice item with the same key: however often either task
runs, Stripe gets one item.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from agents.context import AgentContext
from agents.ledger import DONE, claim_call, complete_call, fail_call
from agents.metering.limits import limit_of
from agents.metering.meters import Meter, OveragePrice, format_quantity, load_meters
from agents.metering.periods import Period, parse_period
from agents.provisioning.plans import load_catalog
from core.clock import utcnow
from core.errors import PermanentError, RetryableError
from core.money import minor_digits
from db.audit import record_audit
from db.models import Customer, OverageStatus, UsageOverage
from db.repositories.metering import entitlement_rows, usage_totals
from db.statements import insert_ignore
from tools.stripe.gateway import StripeGatewayError, StripeNotFound, StripeRequestError

ACTOR = "metering"


def overage_amount(overage: Decimal, price: OveragePrice) -> int:
    """Minor units owed for `overage` units: exact decimals, rounded half-even once at the end."""
    major = overage * price.amount / price.per
    minor = major * (Decimal(10) ** minor_digits(price.currency))
    return int(minor.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def overage_key(customer_id: int, metric: str, period: Period) -> str:
    return f"usage_overage:{customer_id}:{metric}:{period.label}"


def close_period(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Record the overages of the period named in `payload["period"]` and queue their billing."""
    try:
        period = parse_period(str(payload.get("period")))
    except ValueError as exc:
        raise PermanentError(str(exc)) from None
    if period.end > utcnow():
        raise PermanentError(f"period {period.label} has not ended yet")
    meters = load_meters(ctx.settings.meters_file)
    queued = 0
    for meter in meters.meters.values():
        if meter.overage is not None:
            queued += _close_meter(ctx, meter, meter.overage, period)
    return {"period": period.label, "overages": queued}


def _close_meter(ctx: AgentContext, meter: Meter, price: OveragePrice, period: Period) -> int:
    plans = load_catalog(ctx.settings.catalog_file)
    totals = usage_totals(
        ctx.session,
        metric=meter.metric,
        aggregation=meter.aggregation,
        field=meter.field,
        start=period.start,
        end=period.end,
    )
    rows = entitlement_rows(ctx.session, meter.metric, list(totals))
    # Limits as they stand at closing: provisioning keeps the current grant, not its history.
    at = period.end - timedelta(microseconds=1)
    queued = 0
    for customer_id, used in totals.items():
        limit = limit_of(rows.get(customer_id), plans, meter.metric, period, at)
        if limit.value is None or used <= limit.value:
            continue
        over = used - limit.value
        amount = overage_amount(over, price)
        if amount <= 0:
            continue
        overage_id = insert_ignore(
            ctx.session,
            UsageOverage,
            {
                "customer_id": customer_id,
                "metric": meter.metric,
                "period_start": period.start,
                "period_end": period.end,
                "used": used,
                "limit_value": limit.value,
                "overage": over,
                "amount": amount,
                "currency": price.currency,
                "status": OverageStatus.PENDING,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            },
        )
        if overage_id is not None:
            ctx.submit(
                "usage.bill_overage",
                {"overage_id": overage_id},
                dedupe_key=f"usage.bill_overage:{overage_id}",
            )
            queued += 1
    return queued


def bill_overage(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """One Stripe invoice item for one overage row, claimed in the ledger first.

    The row is read in a short transaction of its own and settled in the task's at the end:
    the task's session takes the write lock on SQLite, which the ledger's commits need first.
    """
    overage_id = int(payload["overage_id"])
    with ctx.database.transaction() as session:
        overage = session.get(UsageOverage, overage_id)
        if overage is None:
            raise PermanentError(f"no usage overage {overage_id}")
        if overage.status != OverageStatus.PENDING:
            return {"overage_id": overage_id, "status": overage.status}
        customer = session.get(Customer, overage.customer_id)
        stripe_customer = customer.stripe_customer_id if customer is not None else None
        period = Period(overage.period_start, overage.period_end)
        key = overage_key(overage.customer_id, overage.metric, period)
        request: dict[str, Any] = {
            "customer": stripe_customer,
            "amount": overage.amount,
            "currency": overage.currency,
            "description": _description(ctx, overage, period),
            "metadata": {
                "moneta_customer_id": str(overage.customer_id),
                "metric": overage.metric,
                "period": period.label,
                "overage": format_quantity(overage.overage),
            },
        }
    if not stripe_customer:
        return _settle(ctx, overage_id, OverageStatus.SKIPPED, error="no Stripe customer to bill")
    claim = claim_call(
        ctx.database,
        key=key,
        service="stripe",
        operation="create_invoice_item",
        request=request,
        stale_after=timedelta(seconds=ctx.settings.task_lease_seconds),
    )
    if claim.state == DONE:
        return _settle(ctx, overage_id, OverageStatus.BILLED, item=claim.response or {})
    try:
        item = ctx.stripe.create_invoice_item(idempotency_key=key, **request)
    except StripeGatewayError as error:
        fail_call(ctx.database, claim, f"{type(error).__name__}: {error}")
        raise RetryableError(f"invoice item {key}: {error}") from error
    except (StripeRequestError, StripeNotFound) as error:
        fail_call(ctx.database, claim, str(error))
        return _settle(ctx, overage_id, OverageStatus.FAILED, error=f"Stripe refused: {error}")
    except Exception as error:
        fail_call(ctx.database, claim, f"{type(error).__name__}: {error}")
        raise
    complete_call(ctx.database, claim, item)
    return _settle(ctx, overage_id, OverageStatus.BILLED, item=item)


def _description(ctx: AgentContext, overage: UsageOverage, period: Period) -> str:
    unit = load_meters(ctx.settings.meters_file).meters.get(overage.metric)
    name = unit.unit if unit is not None else overage.metric
    return (
        f"{format_quantity(overage.overage)} {name} over the plan limit of "
        f"{overage.limit_value:,} in {period.label}"
    )


def _settle(
    ctx: AgentContext,
    overage_id: int,
    status: str,
    *,
    item: dict[str, Any] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """Record the outcome on the row and, for operators, in the audit log (task's session)."""
    overage = ctx.session.get(UsageOverage, overage_id)
    assert overage is not None
    overage.status = status
    overage.error = error
    if item is not None:
        overage.stripe_invoice_item_id = item.get("id")
    record_audit(
        ctx.session,
        actor=ACTOR,
        action=f"usage.overage_{status}",
        subject_type="customer",
        subject_id=overage.customer_id,
        data={
            "overage_id": overage.id,
            "metric": overage.metric,
            "amount": overage.amount,
            "currency": overage.currency,
            "stripe_invoice_item_id": overage.stripe_invoice_item_id,
        },
        detail=error,
    )
    return {
        "overage_id": overage.id,
        "status": status,
        "invoice_item": overage.stripe_invoice_item_id,
    }
