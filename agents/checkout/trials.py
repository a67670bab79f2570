"""One free trial per customer, claimed by the checkout that offers it.

A checkout's claim stays pending until its subscription shows up from Stripe. The session it
opens expires SESSION_TTL after the claim (Stripe's `expires_at`), so an abandoned checkout
cannot start a trial later; once that and a margin for late webhooks have passed, a new
checkout takes the pending claim over rather than the customer losing the trial.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from agents.checkout.rules import Offer
from core.errors import Conflict
from db.models import CustomerTrial
from db.repositories.trials import (
    had_trial_subscription,
    record_trial,
    take_over_trial,
    trial_of,
)

SESSION_TTL = timedelta(hours=1)
TAKEOVER_AFTER = SESSION_TTL + timedelta(hours=1)


def claim_trial(
    session: Session, customer_id: int, offer: Offer, key: str, now: datetime
) -> datetime:
    """When the claim held by checkout `key` expires; 409 `trial_already_used` if another
    checkout or a subscription holds the customer's trial."""
    assert offer.trial_days is not None
    held = trial_of(session, customer_id)
    if held is None and not had_trial_subscription(session, customer_id):
        record_trial(
            session,
            customer_id,
            source="checkout",
            reference=key,
            price_key=offer.price.key,
            trial_days=offer.trial_days,
        )
        held = trial_of(session, customer_id)  # ours, or a concurrent checkout's
    elif held is not None and held.reference != key and _abandoned(session, held, now):
        take_over_trial(
            session,
            held,
            reference=key,
            price_key=offer.price.key,
            trial_days=offer.trial_days,
            at=now,
        )
    if held is None or held.reference != key:
        raise Conflict(
            "this customer has already had a free trial; check out without one",
            code="trial_already_used",
        )
    # From the claim, not the clock: a retry of this checkout sends Stripe the same params.
    return held.created_at.replace(second=0, microsecond=0) + SESSION_TTL


def _abandoned(session: Session, held: CustomerTrial, now: datetime) -> bool:
    """A checkout claim whose session has expired without a subscription appearing."""
    return (
        held.source == "checkout"
        and held.stripe_subscription_id is None
        and held.created_at <= now - TAKEOVER_AFTER
        and not had_trial_subscription(session, held.customer_id)
    )
