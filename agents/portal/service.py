"""The customer portal: plan, subscription, usage against limits, the next invoice's estimate,
payment history and plan recommendations, read in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from agents.catalog.loader import load_catalog as load_product_catalog
from agents.catalog.models import Catalog, Product
from agents.invoices.estimate import Estimate, estimate_next_invoice
from agents.metering.meters import MeterCatalog, load_meters
from agents.metering.periods import Period, period_of, previous_period
from agents.metering.summary import usage_summary
from agents.portal.plan_options import option_of, plan_currency, plan_ladder
from agents.portal.recommendations import MONTHS, MonthUsage, Recommendation, recommend
from agents.provisioning.plans import PlanCatalog
from agents.provisioning.plans import load_catalog as load_plans
from agents.provisioning.rules import ACCESS_BY_STATUS, Access
from agents.subscriptions.repository import customer_subscription
from agents.subscriptions.service import subscription_view
from core.errors import NotFound
from core.settings import Settings
from db.models import Customer, Invoice, Payment, Subscription
from db.repositories.metering import usage_totals
from db.repositories.portal import last_subscription_end, payments_of, versions_newest_first

PAYMENTS_SHOWN = 24


@dataclass(frozen=True)
class PortalView:
    customer: Customer
    plan_key: str
    plan: Product | None  # None: the catalog has no free plan and none is held
    subscription: dict[str, Any] | None
    period: Period
    usage: list[dict[str, Any]]
    estimate: Estimate | None
    payments: list[tuple[Payment, Invoice | None]]
    recommendations: list[Recommendation]


def portal_view(
    session: Session, settings: Settings, customer_id: int, *, at: datetime
) -> PortalView:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    catalog = load_product_catalog(settings.catalog_file)
    plans = load_plans(settings.catalog_file)
    meters = load_meters(settings.meters_file)
    sub = customer_subscription(session, customer_id)
    holding = sub if sub is not None and _holds(sub.status) else None
    plan_key = plans.resolve(holding.plan).key if holding else plans.free_plan
    product = next((p for p in catalog.products if p.key == plan_key), None)
    period = period_of(at)
    return PortalView(
        customer=customer,
        plan_key=plan_key,
        plan=product,
        subscription=subscription_view(session, catalog, customer_id) if sub else None,
        period=period,
        usage=usage_summary(session, meters, plans, customer_id=customer_id, period=period, now=at),
        estimate=_estimate(session, settings, customer_id, at),
        payments=payments_of(session, customer_id, limit=PAYMENTS_SHOWN),
        recommendations=_recommendations(
            session, catalog, plans, meters, customer, holding, product, period
        ),
    )


def _holds(status: str) -> bool:
    return ACCESS_BY_STATUS.get(status, (Access.REVOKE, None))[0] is not Access.REVOKE


def _estimate(
    session: Session, settings: Settings, customer_id: int, at: datetime
) -> Estimate | None:
    try:
        return estimate_next_invoice(session, settings, customer_id, at=at)
    except NotFound:  # no subscription renews: no invoice is coming
        return None


def _recommendations(
    session: Session,
    catalog: Catalog,
    plans: PlanCatalog,
    meters: MeterCatalog,
    customer: Customer,
    holding: Subscription | None,
    product: Product | None,
    period: Period,
) -> list[Recommendation]:
    """Over the last closed months, and only if the plan was held through all of them."""
    closed = [previous_period(period)]
    while len(closed) < MONTHS:
        closed.append(previous_period(closed[-1]))
    closed.reverse()
    if product is None or _held_since(session, plans, customer, holding) > closed[0].start:
        return []
    currency = holding.currency if holding else plan_currency(catalog, product)
    current = option_of(product, currency, offered_only=False)
    if current is None:
        return []
    usage = [_month_usage(session, meters, customer.id, month) for month in closed]
    return recommend(current, plan_ladder(catalog, currency), meters.meters, usage, currency)


def _held_since(
    session: Session, plans: PlanCatalog, customer: Customer, holding: Subscription | None
) -> datetime:
    """Since when the customer holds today's plan: the run of the subscription's versions on
    it, or (on the free plan) since sign-up or the last subscription ended."""
    if holding is None:
        ended = last_subscription_end(session, customer.id)
        return max(customer.created_at, ended) if ended else customer.created_at
    key = plans.resolve(holding.plan).key
    since: datetime | None = None
    for version in versions_newest_first(session, holding.stripe_subscription_id):
        if plans.resolve(version.plan).key != key or not _holds(version.status):
            return since or holding.updated_at
        since = version.valid_from
    return holding.started_at or since or holding.created_at  # the plan it started on


def _month_usage(
    session: Session, meters: MeterCatalog, customer_id: int, month: Period
) -> MonthUsage:
    used: dict[str, Decimal] = {}
    for meter in meters.meters.values():
        used[meter.metric] = usage_totals(
            session,
            metric=meter.metric,
            aggregation=meter.aggregation,
            field=meter.field,
            start=month.start,
            end=month.end,
            customer_ids=[customer_id],
        ).get(customer_id, Decimal(0))
    return MonthUsage(month.label, used)
