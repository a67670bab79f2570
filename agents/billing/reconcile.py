"""Catch up on events the webhook never delivered: list them from Stripe, queue the unseen.

Uses the same task dedupe key as the webhook intake, so an event arriving both ways is
applied by one task.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agents.context import AgentContext
from core.clock import utcnow
from core.errors import RetryableError
from db.repositories.stripe_inbox import add_event, newest_event_created
from orchestrator.inbox_admin import EVENT_TASK, event_task_key
from tools.stripe.gateway import StripeGatewayError

OVERLAP = timedelta(days=1)


def reconcile_events(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Insert unseen events since `payload["since"]` (default: newest inbox event minus a day)."""
    since = reconcile_start(ctx, payload.get("since"))
    listed = inserted = 0
    try:
        for event in ctx.stripe.list_events(created_after=since):
            listed += 1
            if add_event(ctx.session, event, source="reconcile"):
                inserted += 1
                ctx.submit(
                    EVENT_TASK, {"event_id": event["id"]}, dedupe_key=event_task_key(event["id"])
                )
    except StripeGatewayError as exc:
        raise RetryableError(f"Stripe unreachable listing events: {exc}") from exc
    return {"since": since, "listed": listed, "inserted": inserted}


def reconcile_start(ctx: AgentContext, since: int | None) -> int:
    """Unix time to list from: the one asked for, else a day before the newest known event."""
    if since is not None:
        return int(since)
    newest = newest_event_created(ctx.session)
    if newest is None:
        return int((utcnow() - OVERLAP).timestamp())
    return newest - int(OVERLAP.total_seconds())
