"""What an executed action leaves behind, in the task's unit of work: Stripe's answer mirrored
(as the webhook would, stamped with the time we got it, so a later webhook still wins), the
journal entry, the customer's e-mail. Every write is keyed by the approval: a re-run adds nothing.
"""

from __future__ import annotations

from typing import Any

from agents.billing.invoice_close_events import apply_invoice_closed
from agents.billing.invoice_events import apply_invoice_paid
from agents.billing.subscription_events import announce_transition, mirror_subscription
from agents.context import AgentContext
from agents.ledger_journal import rules as posting
from agents.ledger_journal import writer as journal
from agents.ledger_journal.accounts import party
from agents.notification.requests import notify
from core.clock import from_timestamp, utcnow
from db.models import CustomerCredit
from db.statements import insert_ignore


def record_effects(
    ctx: AgentContext, plan: dict[str, Any], response: dict[str, Any]
) -> dict[str, Any]:
    """Apply the executed action's local effects; returns the summary kept on the approval."""
    match plan["action"]:
        case "credit":
            return _record_credit(ctx, plan, response)
        case "cancel" | "extend_trial":
            return _mirror_subscription(ctx, plan, response)
        case "manual_charge":
            apply_invoice_paid(ctx, _as_event(plan, "invoice.paid", response))
            summary = {"invoice_id": response["id"], "status": response.get("status")}
            return {**summary, "amount_paid": response.get("amount_paid")}
        case "write_off":
            return _record_write_off(ctx, plan, response)
    return response  # retry_task: done in the execute step already


def _as_event(plan: dict[str, Any], kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"moneta_approval_{plan['approval_id']}",
        "type": kind,
        "created": int(utcnow().timestamp()),
        "data": {"object": obj},
    }


def _record_credit(ctx: AgentContext, plan: dict[str, Any], txn: dict[str, Any]) -> dict[str, Any]:
    approval_id, customer_id = plan["approval_id"], plan["customer_id"]
    currency = (txn.get("currency") or plan["currency"]).lower()
    insert_ignore(
        ctx.session,
        CustomerCredit,
        {
            "approval_id": approval_id,
            "customer_id": customer_id,
            "stripe_balance_transaction_id": txn["id"],
            "amount": plan["amount"],
            "currency": currency,
            "ending_balance": int(txn.get("ending_balance") or 0),
            "created_at": from_timestamp(txn["created"]) if txn.get("created") else utcnow(),
        },
    )
    journal.post(
        ctx.session,
        posting.credit_granted(
            dedupe_key=f"credit:approval:{approval_id}",
            amount=plan["amount"],
            currency=currency,
            customer_party=party("customer", customer_id),
            data={"approval_id": approval_id, "balance_transaction": txn["id"]},
        ),
    )
    notify(
        ctx,
        key=f"credit_granted:{approval_id}",
        template="credit_granted",
        customer_id=customer_id,
        context={"amount": plan["amount"], "currency": currency, "approval_id": approval_id},
    )
    return {
        "balance_transaction_id": txn["id"],
        "amount": plan["amount"],
        "currency": currency,
        "ending_balance": txn.get("ending_balance"),
    }


def _mirror_subscription(
    ctx: AgentContext, plan: dict[str, Any], sub: dict[str, Any]
) -> dict[str, Any]:
    kind = "deleted" if sub.get("status") == "canceled" else "updated"
    event = _as_event(plan, f"customer.subscription.{kind}", sub)
    mirrored = mirror_subscription(ctx, event)
    if mirrored.written.applied:
        announce_transition(ctx, event, mirrored)
    return {
        "subscription": sub["id"],
        "status": sub.get("status"),
        "trial_end": sub.get("trial_end"),
    }


def _record_write_off(
    ctx: AgentContext, plan: dict[str, Any], invoice: dict[str, Any]
) -> dict[str, Any]:
    """Mirror the invoice and close its dunning (as the webhook does), then book the loss."""
    apply_invoice_closed(ctx, _as_event(plan, "invoice.marked_uncollectible", invoice))
    remaining = invoice.get("amount_remaining")
    amount = int(remaining) if isinstance(remaining, int) else plan["amount"]
    currency = (invoice.get("currency") or plan["currency"]).lower()
    if amount > 0:
        journal.post(
            ctx.session,
            posting.bad_debt_written_off(
                dedupe_key=f"write_off:approval:{plan['approval_id']}",
                amount=amount,
                currency=currency,
                customer_party=party("customer", plan["customer_id"]),
                data={"approval_id": plan["approval_id"], "invoice": invoice["id"]},
            ),
        )
    return {"invoice_id": invoice["id"], "status": invoice.get("status"), "written_off": amount}
