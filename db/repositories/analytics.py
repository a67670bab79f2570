"""Queries behind analytics: business events, the versions and money of a day, snapshots."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Select, and_, delete, func, select, text
from sqlalchemy.orm import Session, aliased

from db.models import (
    AnalyticsEvent,
    Invoice,
    MetricSnapshot,
    Payment,
    Refund,
    Subscription,
    SubscriptionVersion,
)
from db.repositories.revenue import PRICE_COLUMNS
from db.statements import insert_ignore

SUCCEEDED = "succeeded"
FAILED = "failed"
RECOVERED = "recovered"  # paid after an earlier failed attempt of the same invoice
# PostgreSQL's work_mem for the rest of the caller's transaction (SET LOCAL).
SORT_MEMORY = "256MB"


def record_event(session: Session, values: dict[str, Any]) -> bool:
    """Insert a business event unless its dedupe key is known; True if it was new."""
    return insert_ignore(session, AnalyticsEvent, values) is not None


def use_sort_memory(session: Session) -> None:
    """Raise work_mem for the caller's transaction on PostgreSQL: a day's window sorts of
    every paying subscription spill to disk under the 4 MB default."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))


def changed_customers(start: datetime, end: datetime) -> Select[int]:
    """Customers with a subscription version in [start, end): a subscription keeps its
    customer for life, so every other customer's subscriptions are the same all day."""
    version = SubscriptionVersion
    return select(version.customer_id).where(version.valid_from >= start, version.valid_from < end)


def latest_versions(
    session: Session, before: datetime, *, statuses: Collection[str] | None = None
) -> list[Row[Any]]:
    """Each subscription's latest version before `before`, kept if its status is in `statuses`
    (all when None). Plain rows (stripe_subscription_id + PRICE_COLUMNS), not entities:
    building an entity per subscription was most of a day's aggregation time."""
    version = SubscriptionVersion
    latest = (
        select(
            version.stripe_subscription_id.label("sid"),
            func.max(version.valid_from).label("valid_from"),
        )
        .where(version.valid_from < before)
        .group_by(version.stripe_subscription_id)
        .subquery()
    )
    query = select(version.stripe_subscription_id, *PRICE_COLUMNS).join(
        latest,
        and_(
            version.stripe_subscription_id == latest.c.sid,
            version.valid_from == latest.c.valid_from,
        ),
    )
    if statuses is not None:
        query = query.where(version.status.in_(statuses))
    return list(session.execute(query))


def changed_versions(session: Session, start: datetime, end: datetime) -> list[Row[Any]]:
    """For each subscription of the customers with a change in [start, end): its latest
    version before `start` and its latest version in [start, end), each if it has one.
    Plain rows: stripe_subscription_id, `during` (False for the first kind) + PRICE_COLUMNS:
    one read of those customers' versions gives both ends of their day."""
    version = SubscriptionVersion
    during = version.valid_from >= start
    ranked = (
        select(
            version.stripe_subscription_id,
            during.label("during"),
            *PRICE_COLUMNS,
            func.row_number()
            .over(
                partition_by=(version.customer_id, version.stripe_subscription_id, during),
                order_by=version.valid_from.desc(),
            )
            .label("nth"),
        )
        .where(version.valid_from < end, version.customer_id.in_(changed_customers(start, end)))
        .subquery()
    )
    use_sort_memory(session)
    return list(
        session.execute(select(*(c for c in ranked.c if c.key != "nth")).where(ranked.c.nth == 1))
    )


def payment_totals(
    session: Session, start: datetime, end: datetime
) -> list[tuple[str, str | None, str, int, int]]:
    """(currency, plan, status, count, amount) of the day's payments: `succeeded` from the
    payments table, `failed` and `recovered` from the business events billing records.

    Invoice attempts that fail leave no charge row, so failures are counted from the
    `payment_failed` events (one per attempt); a `payment_succeeded` of an invoice that had
    failed before counts as a recovery. Plan is that of the invoice's subscription, else None.
    """
    at = func.coalesce(Payment.paid_at, Payment.created_at)
    succeeded = session.execute(
        select(
            Payment.currency,
            Subscription.plan,
            func.count(),
            func.coalesce(func.sum(Payment.amount), 0),
        )
        .outerjoin(Invoice, Invoice.stripe_invoice_id == Payment.stripe_invoice_id)
        .outerjoin(
            Subscription, Subscription.stripe_subscription_id == Invoice.stripe_subscription_id
        )
        .where(at >= start, at < end, Payment.status == SUCCEEDED)
        .group_by(Payment.currency, Subscription.plan)
    ).all()
    rows = [(cur, plan, SUCCEEDED, n, total) for cur, plan, n, total in succeeded]
    rows += [
        (cur, plan, FAILED, n, total)
        for cur, plan, n, total in _event_totals(session, "payment_failed", start, end)
    ]
    rows += [
        (cur, plan, RECOVERED, n, total)
        for cur, plan, n, total in _event_totals(
            session, "payment_succeeded", start, end, after_failure=True
        )
    ]
    # SUM() of a bigint is NUMERIC on PostgreSQL: back to integer minor units.
    return [(cur, plan, status, int(n), int(total)) for cur, plan, status, n, total in rows]


def _event_totals(
    session: Session, kind: str, start: datetime, end: datetime, *, after_failure: bool = False
) -> list[tuple[str, str | None, int, int]]:
    """(currency, plan, count, amount) of business events of `kind` in [start, end)."""
    invoice_of = AnalyticsEvent.data["stripe_invoice_id"].as_string()
    query = (
        select(
            AnalyticsEvent.currency,
            Subscription.plan,
            func.count(),
            func.coalesce(func.sum(AnalyticsEvent.amount), 0),
        )
        .outerjoin(Invoice, Invoice.stripe_invoice_id == invoice_of)
        .outerjoin(
            Subscription, Subscription.stripe_subscription_id == Invoice.stripe_subscription_id
        )
        .where(
            AnalyticsEvent.type == kind,
            AnalyticsEvent.occurred_at >= start,
            AnalyticsEvent.occurred_at < end,
            AnalyticsEvent.currency.is_not(None),
        )
        .group_by(AnalyticsEvent.currency, Subscription.plan)
    )
    if after_failure:
        failed = aliased(AnalyticsEvent)
        query = query.where(
            select(failed.id)
            .where(
                failed.type == "payment_failed",
                failed.data["stripe_invoice_id"].as_string() == invoice_of,
                failed.occurred_at <= AnalyticsEvent.occurred_at,
            )
            .exists()
        )
    totals: list[tuple[str, str | None, int, int]] = []
    for cur, plan, n, total in session.execute(query):
        # Typed optional, but the WHERE drops NULL currencies and COALESCE turns a NULL sum to 0.
        assert cur is not None and total is not None
        totals.append((cur, plan, int(n), int(total)))
    return totals


def refund_totals(
    session: Session, start: datetime, end: datetime
) -> list[tuple[str, str | None, int]]:
    """(currency, plan, amount) of succeeded refunds in [start, end), plan as for payments."""
    rows = session.execute(
        select(Refund.currency, Subscription.plan, func.coalesce(func.sum(Refund.amount), 0))
        .outerjoin(Payment, Payment.id == Refund.payment_id)
        .outerjoin(Invoice, Invoice.stripe_invoice_id == Payment.stripe_invoice_id)
        .outerjoin(
            Subscription, Subscription.stripe_subscription_id == Invoice.stripe_subscription_id
        )
        .where(Refund.refunded_at >= start, Refund.refunded_at < end, Refund.status == SUCCEEDED)
        .group_by(Refund.currency, Subscription.plan)
    ).all()
    return [(currency, plan, int(total)) for currency, plan, total in rows]


def replace_snapshots(
    session: Session, day: date, snapshots: list[MetricSnapshot]
) -> list[MetricSnapshot]:
    """Swap the day's snapshot rows for `snapshots`; other days are untouched."""
    session.execute(delete(MetricSnapshot).where(MetricSnapshot.day == day))
    session.add_all(snapshots)
    session.flush()
    return snapshots


def snapshots_of(session: Session, day: date) -> list[MetricSnapshot]:
    return list(
        session.scalars(
            select(MetricSnapshot)
            .where(MetricSnapshot.day == day)
            .order_by(MetricSnapshot.currency, MetricSnapshot.plan)
        )
    )
