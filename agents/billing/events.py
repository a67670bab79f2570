"""Apply one stored Stripe event: load it from the inbox, dispatch by type, record the outcome."""

from __future__ import annotations

import logging
from typing import Any

from agents.billing.handlers import HANDLERS
from agents.billing.mirror import Outcome
from agents.context import AgentContext
from core.errors import PermanentError
from db.repositories.stripe_inbox import load_event, mark_event_handled

log = logging.getLogger(__name__)


def apply_stripe_event(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Handle the inbox event `payload["event_id"]`; safe to run again for the same event."""
    event_id = payload["event_id"]
    stored = load_event(ctx.session, event_id)
    if stored is None:  # the intake commits the inbox row with this task: it cannot appear later
        raise PermanentError(f"Stripe event {event_id} is not in the inbox")
    handler = HANDLERS.get(stored.type)
    outcome: Outcome = handler(ctx, stored.body) if handler else "ignored"
    mark_event_handled(ctx.session, event_id, outcome)
    log.info("stripe event %s (%s): %s", event_id, stored.type, outcome)
    return {"event_id": event_id, "type": stored.type, "outcome": outcome}
