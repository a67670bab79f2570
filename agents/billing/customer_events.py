"""Handlers of customer.created / updated / deleted: mirror the customer, newest event wins."""

from __future__ import annotations

from typing import Any

from agents.billing.mirror import Outcome, outcome_of
from agents.billing.stripe_objects import event_object, event_time, read_customer
from agents.context import AgentContext
from db.repositories.billing import upsert_customer


def apply_customer_changed(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    """customer.created and customer.updated carry the whole customer: mirror it."""
    snapshot = read_customer(event_object(event))
    written = upsert_customer(
        ctx.session,
        snapshot.stripe_customer_id,
        email=snapshot.email,
        name=snapshot.name,
        deleted_at=None,
        created=event["created"],
    )
    return outcome_of(written)


def apply_customer_deleted(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    """Keep the row (payments and history point at it), marked deleted at the event's time."""
    snapshot = read_customer(event_object(event))
    written = upsert_customer(
        ctx.session,
        snapshot.stripe_customer_id,
        email=snapshot.email,
        name=snapshot.name,
        deleted_at=event_time(event),
        created=event["created"],
    )
    return outcome_of(written)
