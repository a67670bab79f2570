"""How billing tells dunning what happened to an invoice: one task per Stripe event and fact.

The typed contract of the dunning agent's task payloads (as `notification.requests` is for
e-mails). Submitted in the event's unit of work, keyed by the event, so a redelivered event adds
no second task; the dunning agent reads the mirrored invoice for everything else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from agents.context import AgentContext
from agents.dunning.cases import CLOSING_STATUS
from db.repositories import dunning as repo

InvoiceOutcome = Literal["paid", "void", "uncollectible"]


def report_payment_failed(
    ctx: AgentContext,
    event: dict[str, Any],
    *,
    stripe_invoice_id: str,
    failed_at: datetime,
    payment_intent: str | None,
) -> None:
    """A payment of the invoice failed: open its dunning case (or note a hard decline)."""
    ctx.submit(
        "dunning.payment_failed",
        {
            "stripe_invoice_id": stripe_invoice_id,
            "failed_at": failed_at.isoformat(),
            "payment_intent": payment_intent,
        },
        dedupe_key=f"dunning.payment_failed:{event['id']}",
    )


def report_invoice_closed(
    ctx: AgentContext,
    event: dict[str, Any],
    *,
    stripe_invoice_id: str,
    outcome: InvoiceOutcome,
    at: datetime,
    amount_paid: int,
) -> None:
    """The invoice was paid, voided or written off: its dunning stops at once.

    Called after billing wrote the invoice (holding its row lock), so when the mirror already
    shows it settled and no case is open, no task is queued: a failure reported earlier or
    later opens its case under that lock, sees the settled invoice and closes the case itself.
    """
    if repo.settled_without_open_case(ctx.session, stripe_invoice_id, CLOSING_STATUS):
        return
    ctx.submit(
        "dunning.invoice_closed",
        {
            "stripe_invoice_id": stripe_invoice_id,
            "outcome": outcome,
            "at": at.isoformat(),
            "amount_paid": amount_paid,
        },
        dedupe_key=f"dunning.invoice_closed:{event['id']}",
    )


def report_subscription_ended(
    ctx: AgentContext, event: dict[str, Any], *, stripe_subscription_id: str, at: datetime
) -> None:
    """The subscription was canceled: the dunning of its invoices stops."""
    ctx.submit(
        "dunning.subscription_ended",
        {"stripe_subscription_id": stripe_subscription_id, "at": at.isoformat()},
        dedupe_key=f"dunning.subscription_ended:{event['id']}",
    )
