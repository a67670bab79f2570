"""Handlers of customer.subscription.*: mirror the subscription, record its history, follow up.

Every snapshot is kept as a SubscriptionVersion at the event's time (history is order-free);
only the newest one becomes the current row. Follow-ups fire on transitions of the current
row, so an event replayed or arriving late adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.billing.followups import record_business_event, request_provisioning, send_welcome
from agents.billing.mirror import Outcome, ensure_customer, outcome_of, write_settling_ties
from agents.billing.stripe_objects import (
    ACTIVE_STATUSES,
    SubscriptionSnapshot,
    event_object,
    event_time,
    read_subscription,
    version_columns,
)
from agents.context import AgentContext
from agents.dunning.requests import report_subscription_ended
from agents.notification.requests import notify
from db.repositories.billing import (
    TieRule,
    Upserted,
    find_subscription,
    record_subscription_version,
    upsert_subscription,
)

NOT_STARTED = frozenset({None, "incomplete", "incomplete_expired"})


@dataclass(frozen=True)
class MirroredSubscription:
    written: Upserted
    snapshot: SubscriptionSnapshot  # what the row now holds when written.applied
    customer_id: int


def mirror_subscription(ctx: AgentContext, event: dict[str, Any]) -> MirroredSubscription:
    """Record the event's snapshot as history and apply it (or Stripe's, on a tie) to the row."""
    created = event["created"]
    snapshot = read_subscription(event_object(event))
    customer_id = ensure_customer(ctx, snapshot.stripe_customer_id, created)
    record_subscription_version(
        ctx.session,
        snapshot.stripe_subscription_id,
        customer_id=customer_id,
        valid_from=event_time(event),
        values=version_columns(snapshot),
    )

    def write(obj: dict[str, Any], on_tie: TieRule) -> Upserted:
        return upsert_subscription(
            ctx.session,
            snapshot.stripe_subscription_id,
            customer_id=customer_id,
            values=read_subscription(obj).columns(),
            created=created,
            on_tie=on_tie,
        )

    written, applied = write_settling_ties(ctx, "subscription", event_object(event), write)
    return MirroredSubscription(written, read_subscription(applied), customer_id)


def apply_subscription_changed(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    """created / updated / deleted / paused / resumed: mirror, then announce what changed."""
    mirrored = mirror_subscription(ctx, event)
    if mirrored.written.applied:
        announce_transition(ctx, event, mirrored)
    return outcome_of(mirrored.written)


def apply_subscription_trial_will_end(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    """Warn the customer, unless the subscription has since left that trial."""
    mirrored = mirror_subscription(ctx, event)
    if mirrored.written.applied:
        announce_transition(ctx, event, mirrored)
    current = find_subscription(ctx.session, mirrored.snapshot.stripe_subscription_id)
    trial_end = read_subscription(event_object(event)).trial_end
    if current and current.status == "trialing" and trial_end and current.trial_end == trial_end:
        notify(
            ctx,
            key=f"trial_ending:{current.stripe_subscription_id}:{int(trial_end.timestamp())}",
            template="trial_ending",
            customer_id=mirrored.customer_id,
            to=None,
            context={"trial_end": trial_end, "plan": current.plan},
        )
    return outcome_of(mirrored.written)


def announce_transition(
    ctx: AgentContext, event: dict[str, Any], mirrored: MirroredSubscription
) -> None:
    """Provisioning on every applied change; analytics and e-mail on start and cancel."""
    request_provisioning(ctx, event, mirrored.customer_id)
    before = mirrored.written.before_value("status")
    snapshot = mirrored.snapshot
    facts = {
        "stripe_subscription_id": snapshot.stripe_subscription_id,
        "plan": snapshot.plan,
        "status": snapshot.status,
        "interval": snapshot.interval,
        "interval_count": snapshot.interval_count,
        "quantity": snapshot.quantity,
    }
    if before in NOT_STARTED and snapshot.status in ACTIVE_STATUSES:
        record_business_event(
            ctx,
            event,
            "subscription_started",
            customer_id=mirrored.customer_id,
            amount=snapshot.unit_amount * snapshot.quantity,
            currency=snapshot.currency,
            data=facts,
        )
        send_welcome(
            ctx, stripe_customer_id=snapshot.stripe_customer_id, customer_id=mirrored.customer_id
        )
    if snapshot.status == "canceled" and before != "canceled":
        ended_at = snapshot.ended_at or snapshot.canceled_at or event_time(event)
        record_business_event(
            ctx,
            event,
            "subscription_canceled",
            customer_id=mirrored.customer_id,
            amount=snapshot.unit_amount * snapshot.quantity,
            currency=snapshot.currency,
            data={**facts, "ended_at": ended_at},
        )
        notify(
            ctx,
            key=f"subscription_canceled:{snapshot.stripe_subscription_id}",
            template="subscription_canceled",
            customer_id=mirrored.customer_id,
            to=None,
            context={"plan": snapshot.plan, "ends_at": ended_at},
        )
        report_subscription_ended(
            ctx, event, stripe_subscription_id=snapshot.stripe_subscription_id, at=ended_at
        )
