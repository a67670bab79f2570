"""Handlers of invoice.voided / invoice.marked_uncollectible: mirror, and stop the dunning.

Nobody is asked to pay a voided or written-off invoice any more, so its dunning case closes at
once (the dunning agent also re-checks the mirrored status before every step).
"""

from __future__ import annotations

from typing import Any

from agents.billing.invoice_events import mirror_invoice
from agents.billing.mirror import Outcome, outcome_of
from agents.billing.stripe_objects import event_time
from agents.context import AgentContext
from agents.dunning.requests import InvoiceOutcome, report_invoice_closed

OUTCOME_BY_TYPE: dict[str, InvoiceOutcome] = {
    "invoice.voided": "void",
    "invoice.marked_uncollectible": "uncollectible",
}


def apply_invoice_closed(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    mirrored = mirror_invoice(ctx, event)
    report_invoice_closed(
        ctx,
        event,
        stripe_invoice_id=mirrored.snapshot.stripe_invoice_id,
        outcome=OUTCOME_BY_TYPE[event["type"]],
        at=event_time(event),
        amount_paid=mirrored.snapshot.amount_paid,
    )
    return outcome_of(mirrored.written)
