"""Queries of subscription changes: the customer's subscription, its changes, the period paid."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from agents.subscriptions.terms import CHANGEABLE_STATUSES
from db.models import ChangeStatus, Invoice, Payment, Subscription, SubscriptionChange


def customer_subscription(session: Session, customer_id: int) -> Subscription | None:
    """The customer's live subscription (Moneta sells one plan each), else their newest one."""
    live_first = case((Subscription.status.in_(CHANGEABLE_STATUSES), 0), else_=1)
    return session.scalars(
        select(Subscription)
        .where(Subscription.customer_id == customer_id)
        .order_by(live_first, Subscription.id.desc())
        .limit(1)
    ).first()


def change_by_key(session: Session, idempotency_key: str) -> SubscriptionChange | None:
    return session.scalars(
        select(SubscriptionChange).where(SubscriptionChange.idempotency_key == idempotency_key)
    ).first()


def lock_change(session: Session, change_id: int) -> SubscriptionChange | None:
    return session.scalars(
        select(SubscriptionChange)
        .where(SubscriptionChange.id == change_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def open_changes(session: Session, subscription_id: int) -> list[SubscriptionChange]:
    """Changes requested and not applied yet (a downgrade waiting for the period end)."""
    return list(
        session.scalars(
            select(SubscriptionChange)
            .where(
                SubscriptionChange.subscription_id == subscription_id,
                SubscriptionChange.status == ChangeStatus.REQUESTED,
            )
            .order_by(SubscriptionChange.id)
        )
    )


def collection_paused(session: Session, subscription_id: int) -> bool:
    """Whether the last applied pause or unpause was a pause (the mirror has no such column)."""
    last = session.scalars(
        select(SubscriptionChange.action)
        .where(
            SubscriptionChange.subscription_id == subscription_id,
            SubscriptionChange.status == ChangeStatus.APPLIED,
            SubscriptionChange.action.in_(("pause", "unpause")),
        )
        .order_by(SubscriptionChange.applied_at.desc(), SubscriptionChange.id.desc())
        .limit(1)
    ).first()
    return last == "pause"


def period_payment(session: Session, subscription: Subscription) -> Payment | None:
    """The succeeded payment of the subscription's newest paid invoice (what a refund returns)."""
    return session.scalars(
        select(Payment)
        .join(Invoice, Invoice.stripe_invoice_id == Payment.stripe_invoice_id)
        .where(
            Invoice.stripe_subscription_id == subscription.stripe_subscription_id,
            Payment.status == "succeeded",
            Payment.amount > 0,
        )
        .order_by(Payment.id.desc())
        .limit(1)
    ).first()
