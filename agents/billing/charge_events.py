"""Handlers of charge.refunded, refund.updated and charge.dispute.created / closed.

Refunds and disputes hang off a payment (a charge); a charge not mirrored yet is fetched from
Stripe first. Refund money is counted, and the customer told, once: when a refund first turns
succeeded in our records.
"""

from __future__ import annotations

from typing import Any

from agents.billing.followups import record_business_event, request_provisioning
from agents.billing.mirror import (
    Outcome,
    ensure_payment_for_charge,
    list_charge_refunds,
    mirror_charge,
    outcome_of,
)
from agents.billing.partner_tasks import request_clawback, request_commission_restore
from agents.billing.stripe_objects import event_object
from agents.billing.stripe_payments import embedded_refunds, read_dispute, read_refund
from agents.context import AgentContext
from agents.ledger_journal.stripe_postings import post_dispute, post_refund
from agents.notification.requests import notify
from db.repositories.billing import PaymentLink, Upserted, upsert_dispute, upsert_refund


def apply_charge_refunded(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    """Mirror the charge's refunded total and each of its refunds."""
    charge = event_object(event)
    payment, written = mirror_charge(ctx, charge, event["created"])
    refunds = embedded_refunds(charge) or list_charge_refunds(ctx, charge["id"])
    writes = [mirror_refund(ctx, event, refund, payment) for refund in refunds]
    outcome = outcome_of(written, *writes)
    if outcome == "applied":
        request_provisioning(ctx, event, payment.customer_id)
        request_token_revocation(ctx, charge)
    return outcome


def request_token_revocation(ctx: AgentContext, charge: dict[str, Any]) -> None:
    """If the charge paid for AI tokens, the wallet agent takes the refunded share back."""
    payment_intent = charge.get("payment_intent")
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id")
    refunded = int(charge.get("amount_refunded") or 0)
    if not payment_intent or refunded <= 0:
        return
    ctx.submit(
        "wallet.refund",
        {
            "payment_intent": payment_intent,
            "charge": charge["id"],
            "amount": int(charge.get("amount") or 0),
            "amount_refunded": refunded,
        },
        dedupe_key=f"wallet-refund:{charge['id']}:{refunded}",
    )


def apply_refund_updated(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    refund = event_object(event)
    charge_id = read_refund(refund).stripe_charge_id
    payment = ensure_payment_for_charge(ctx, charge_id, event["created"]) if charge_id else None
    written = mirror_refund(ctx, event, refund, payment)
    if written.applied and payment is not None:
        request_provisioning(ctx, event, payment.customer_id)
    return outcome_of(written)


def mirror_refund(
    ctx: AgentContext, event: dict[str, Any], refund: dict[str, Any], payment: PaymentLink | None
) -> Upserted:
    snapshot = read_refund(refund)
    written = upsert_refund(
        ctx.session,
        snapshot.stripe_refund_id,
        payment_id=payment.payment_id if payment else None,
        values=snapshot.columns(),
        created=event["created"],
    )
    post_refund(ctx.session, snapshot.stripe_refund_id)
    newly_succeeded = written.before_value("status") != "succeeded"
    if snapshot.status == "succeeded":  # also when our own refund graph recorded it first
        request_clawback(
            ctx, charge_id=snapshot.stripe_charge_id, cause="refund", ref=snapshot.stripe_refund_id
        )
    if written.applied and snapshot.status == "succeeded" and newly_succeeded:
        customer_id = payment.customer_id if payment else None
        record_business_event(
            ctx,
            event,
            "refund",
            customer_id=customer_id,
            amount=snapshot.amount,
            currency=snapshot.currency,
            data={"stripe_refund_id": snapshot.stripe_refund_id, "reason": snapshot.reason},
            subject=snapshot.stripe_refund_id,
        )
        notify(
            ctx,
            key=f"refund_issued:{snapshot.stripe_refund_id}",
            template="refund_issued",
            customer_id=customer_id,
            to=None,
            context={"amount": snapshot.amount, "currency": snapshot.currency},
        )
    return written


# A dispute won by us, or an inquiry closed without becoming one: the payment stands.
CUSTOMER_GAVE_UP = frozenset({"won", "warning_closed"})


def apply_dispute_created(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    return mirror_dispute(ctx, event, "dispute_opened")


def apply_dispute_closed(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    return mirror_dispute(ctx, event, "dispute_closed")


def mirror_dispute(ctx: AgentContext, event: dict[str, Any], fact: str) -> Outcome:
    """Mirror the dispute and post what it moved; the opening or closing is recorded for
    analytics even when late. A won dispute gives clawed-back commissions back."""
    snapshot = read_dispute(event_object(event))
    charge_id = snapshot.stripe_charge_id
    payment = ensure_payment_for_charge(ctx, charge_id, event["created"]) if charge_id else None
    customer_id = payment.customer_id if payment else None
    written = upsert_dispute(
        ctx.session,
        snapshot.stripe_dispute_id,
        payment_id=payment.payment_id if payment else None,
        values=snapshot.columns(),
        created=event["created"],
    )
    post_dispute(ctx.session, snapshot.stripe_dispute_id)
    if fact == "dispute_opened":
        request_clawback(ctx, charge_id=charge_id, cause="dispute", ref=snapshot.stripe_dispute_id)
    elif snapshot.status in CUSTOMER_GAVE_UP:
        request_commission_restore(ctx, charge_id=charge_id, ref=snapshot.stripe_dispute_id)
    record_business_event(
        ctx,
        event,
        fact,
        customer_id=customer_id,
        amount=snapshot.amount,
        currency=snapshot.currency,
        data={
            "stripe_dispute_id": snapshot.stripe_dispute_id,
            "status": snapshot.status,
            "reason": snapshot.reason,
        },
    )
    if written.applied:
        request_provisioning(ctx, event, customer_id)
    return outcome_of(written)
