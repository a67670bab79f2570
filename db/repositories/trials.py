"""The one-trial-per-customer record: insert-once rows in `customer_trials`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import CustomerTrial, Subscription
from db.statements import affected_rows, insert_ignore


def trial_of(session: Session, customer_id: int) -> CustomerTrial | None:
    return session.scalars(
        select(CustomerTrial).where(CustomerTrial.customer_id == customer_id)
    ).one_or_none()


def had_trial_subscription(session: Session, customer_id: int) -> bool:
    """A mirrored subscription of the customer ever carried a trial (before this record)."""
    found = session.scalars(
        select(Subscription.id)
        .where(Subscription.customer_id == customer_id, Subscription.trial_end.is_not(None))
        .limit(1)
    ).first()
    return found is not None


def record_trial(
    session: Session,
    customer_id: int,
    *,
    source: str,
    reference: str,
    price_key: str | None = None,
    trial_days: int | None = None,
    stripe_subscription_id: str | None = None,
) -> bool:
    """Record the customer's trial; False when one was recorded before (the first one stays).

    A later sighting of the same trial on Stripe fills in its subscription id.
    """
    created = insert_ignore(
        session,
        CustomerTrial,
        {
            "customer_id": customer_id,
            "source": source,
            "reference": reference,
            "price_key": price_key,
            "trial_days": trial_days,
            "stripe_subscription_id": stripe_subscription_id,
        },
    )
    if created is None and stripe_subscription_id is not None:
        session.execute(
            update(CustomerTrial)
            .where(
                CustomerTrial.customer_id == customer_id,
                CustomerTrial.stripe_subscription_id.is_(None),
            )
            .values(stripe_subscription_id=stripe_subscription_id)
        )
    return created is not None


def take_over_trial(
    session: Session,
    trial: CustomerTrial,
    *,
    reference: str,
    price_key: str,
    trial_days: int,
    at: datetime,
) -> bool:
    """Move a still-pending checkout claim to a new checkout; False if it changed meanwhile."""
    moved = session.execute(
        update(CustomerTrial)
        .where(
            CustomerTrial.id == trial.id,
            CustomerTrial.reference == trial.reference,
            CustomerTrial.stripe_subscription_id.is_(None),
        )
        .values(reference=reference, price_key=price_key, trial_days=trial_days, created_at=at)
        .execution_options(synchronize_session=False)
    )
    session.refresh(trial)
    return affected_rows(moved) == 1
