"""The copilot's read queries: customers, their payments, invoices, subscriptions, metrics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from db.models import (
    Customer,
    Invoice,
    MetricSnapshot,
    Payment,
    Subscription,
    SubscriptionVersion,
    Task,
)

MATCH_LIMIT = 10


def find_customers(session: Session, query: str) -> Sequence[Customer]:
    """Exact id, Stripe id or e-mail first; otherwise a case-insensitive name/e-mail match."""
    query = query.strip()
    exact = [Customer.stripe_customer_id == query, func.lower(Customer.email) == query.lower()]
    if query.isdigit():
        exact.append(Customer.id == int(query))
    found = session.scalars(select(Customer).where(or_(*exact)).order_by(Customer.id)).all()
    if found:
        return found
    pattern = f"%{query.lower()}%"
    fuzzy = or_(func.lower(Customer.name).like(pattern), func.lower(Customer.email).like(pattern))
    return session.scalars(
        select(Customer).where(fuzzy).order_by(Customer.id).limit(MATCH_LIMIT)
    ).all()


def payments_of(session: Session, customer_id: int) -> Sequence[Payment]:
    stmt = select(Payment).where(Payment.customer_id == customer_id).order_by(Payment.id)
    return session.scalars(stmt).all()


def invoices_of(session: Session, customer_id: int) -> Sequence[Invoice]:
    stmt = select(Invoice).where(Invoice.customer_id == customer_id).order_by(Invoice.id)
    return session.scalars(stmt).all()


def subscriptions_of(session: Session, customer_id: int) -> Sequence[Subscription]:
    stmt = select(Subscription).where(Subscription.customer_id == customer_id)
    return session.scalars(stmt.order_by(Subscription.id)).all()


def versions_of(session: Session, stripe_subscription_id: str) -> Sequence[SubscriptionVersion]:
    stmt = select(SubscriptionVersion).where(
        SubscriptionVersion.stripe_subscription_id == stripe_subscription_id
    )
    return session.scalars(stmt.order_by(SubscriptionVersion.valid_from)).all()


def find_subscription(session: Session, ref: str) -> Subscription | None:
    matches = [Subscription.stripe_subscription_id == ref.strip()]
    if ref.strip().isdigit():
        matches.append(Subscription.id == int(ref))
    return session.scalars(select(Subscription).where(or_(*matches)).limit(1)).first()


def total_snapshots(session: Session, start: date, end: date) -> Sequence[MetricSnapshot]:
    """The all-plans snapshot of each day in [start, end]."""
    stmt = select(MetricSnapshot).where(
        MetricSnapshot.day >= start, MetricSnapshot.day <= end, MetricSnapshot.plan == "*"
    )
    return session.scalars(stmt.order_by(MetricSnapshot.day, MetricSnapshot.currency)).all()


def tasks_with_status(session: Session, status: str) -> Sequence[Task]:
    stmt = select(Task).where(Task.status == status).order_by(Task.id.desc()).limit(MATCH_LIMIT)
    return session.scalars(stmt).all()
