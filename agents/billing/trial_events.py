"""customer.subscription.created: mirror it, and count a trial it starts with.

One trial per customer holds for trials started outside Moneta too (the Stripe dashboard,
another integration): the first trial seen is recorded, insert-once, so replays add nothing.
"""

from __future__ import annotations

from typing import Any

from agents.billing.mirror import Outcome, ensure_customer
from agents.billing.stripe_objects import event_object, read_subscription, timestamp
from agents.billing.subscription_events import apply_subscription_changed
from agents.context import AgentContext
from db.repositories.catalog import price_key_of
from db.repositories.trials import record_trial

DAY_SECONDS = 86_400


def apply_subscription_created(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    outcome = apply_subscription_changed(ctx, event)
    record_subscription_trial(ctx, event)
    return outcome


def record_subscription_trial(ctx: AgentContext, event: dict[str, Any]) -> None:
    obj = event_object(event)
    snapshot = read_subscription(obj)
    if snapshot.trial_end is None:
        return
    start = timestamp(obj.get("trial_start")) or snapshot.started_at
    days = (snapshot.trial_end - start).total_seconds() // DAY_SECONDS if start else None
    record_trial(
        ctx.session,
        ensure_customer(ctx, snapshot.stripe_customer_id, event["created"]),
        source="stripe",
        reference=snapshot.stripe_subscription_id,
        price_key=price_key_of(ctx.session, snapshot.stripe_price_id)
        if snapshot.stripe_price_id
        else None,
        trial_days=int(days) if days is not None else None,
        stripe_subscription_id=snapshot.stripe_subscription_id,
    )
