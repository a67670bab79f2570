"""Queries behind analytics: business events, the versions and money of a day, snapshots."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select
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
from db.statements import insert_ignore

SUCCEEDED = "succeeded"
FAILED = "failed"
RECOVERED = "recovered"  # paid after an earlier failed attempt of the same invoice


def record_event(session: Session, values: dict[str, Any]) -> bool:
    """Insert a business event unless its dedupe key is known; True if it was new."""
    return insert_ignore(session, AnalyticsEvent, values) is not None


def latest_versions(
    session: Session,
    before: datetime,
    *,
    statuses: Collection[str] | None = None,
    or_changed_since: datetime | None = None,
) -> list[SubscriptionVersion]:
    """Each subscription's latest version before `before`, kept if its status is in `statuses`
    (all when None) or it was recorded at or after `or_changed_since`."""
    version = SubscriptionVersion
    newest = (
        select(
            version.stripe_subscription_id.label("sid"),
            func.max(version.valid_from).label("valid_from"),
        )
        .where(version.valid_from < before)
        .group_by(version.stripe_subscription_id)
        .subquery()
    )
    query = select(version).join(
        newest,
        and_(
            version.stripe_subscription_id == newest.c.sid,
            version.valid_from == newest.c.valid_from,
        ),
    )
    if statuses is not None:
        keep: ColumnElement[bool] = version.status.in_(statuses)
        if or_changed_since is not None:
            keep = or_(keep, version.valid_from >= or_changed_since)
        query = query.where(keep)
    return list(session.scalars(query))


def first_seen_between(session: Session, start: datetime, end: datetime) -> set[str]:
    """Subscriptions whose first version falls in [start, end)."""
    version = SubscriptionVersion
    earlier = aliased(SubscriptionVersion)
    seen_before = exists().where(
        earlier.stripe_subscription_id == version.stripe_subscription_id,
        earlier.valid_from < start,
    )
    return set(
        session.scalars(
            select(version.stripe_subscription_id)
            .where(version.valid_from >= start, version.valid_from < end, ~seen_before)
            .distinct()
        )
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
    return [(cur, plan, int(n), int(total)) for cur, plan, n, total in session.execute(query)]


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
