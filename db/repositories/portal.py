"""Queries behind the customer portal: payment history and how long a plan has been held."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Invoice, Payment, Subscription, SubscriptionVersion


def payments_of(
    session: Session, customer_id: int, *, limit: int
) -> list[tuple[Payment, Invoice | None]]:
    """The customer's payments, newest first, each with the invoice it paid (if mirrored)."""
    rows = session.execute(
        select(Payment, Invoice)
        .outerjoin(Invoice, Invoice.stripe_invoice_id == Payment.stripe_invoice_id)
        .where(Payment.customer_id == customer_id)
        .order_by(func.coalesce(Payment.paid_at, Payment.created_at).desc(), Payment.id.desc())
        .limit(limit)
    ).all()
    return [(payment, invoice) for payment, invoice in rows]


def versions_newest_first(
    session: Session, stripe_subscription_id: str
) -> Sequence[SubscriptionVersion]:
    return session.scalars(
        select(SubscriptionVersion)
        .where(SubscriptionVersion.stripe_subscription_id == stripe_subscription_id)
        .order_by(SubscriptionVersion.valid_from.desc(), SubscriptionVersion.id.desc())
    ).all()


def last_subscription_end(session: Session, customer_id: int) -> datetime | None:
    """When the customer's last subscription ended (None: none ever did)."""
    return session.scalar(
        select(func.max(Subscription.ended_at)).where(Subscription.customer_id == customer_id)
    )
