"""Handlers of invoice.paid / payment_failed / payment_action_required.

The invoice is mirrored whether or not its subscription is known yet: it names the
subscription by Stripe id only. An invoice event older than the mirror sends nothing, so a
late "payment failed" never follows the receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.billing.followups import record_business_event
from agents.billing.invoice_lines import replace_invoice_lines
from agents.billing.mirror import (
    Outcome,
    ensure_customer,
    list_invoice_payments,
    outcome_of,
    write_settling_ties,
)
from agents.billing.partner_tasks import request_commissions
from agents.billing.stripe_invoices import (
    InvoiceSnapshot,
    PaymentRef,
    invoice_payment_refs,
    invoice_payments_left_out,
    read_invoice,
    read_invoice_payments,
)
from agents.billing.stripe_objects import event_object, event_time, expandable_id
from agents.context import AgentContext
from agents.dunning.requests import report_invoice_closed, report_payment_failed
from agents.ledger_journal.stripe_postings import post_payment
from agents.notification.requests import notify
from db.repositories.billing import TieRule, Upserted, upsert_invoice, upsert_payment


@dataclass(frozen=True)
class MirroredInvoice:
    written: Upserted
    invoice: dict[str, Any]  # the object applied (the event's, or Stripe's after a tie)
    snapshot: InvoiceSnapshot
    customer_id: int


def mirror_invoice(ctx: AgentContext, event: dict[str, Any]) -> MirroredInvoice:
    created = event["created"]
    snapshot = read_invoice(event_object(event))
    customer_id = ensure_customer(ctx, snapshot.stripe_customer_id, created)

    def write(obj: dict[str, Any], on_tie: TieRule) -> Upserted:
        return upsert_invoice(
            ctx.session,
            snapshot.stripe_invoice_id,
            customer_id=customer_id,
            values=read_invoice(obj).columns(),
            created=created,
            on_tie=on_tie,
        )

    written, applied = write_settling_ties(ctx, "invoice", event_object(event), write)
    if written.applied:
        replace_invoice_lines(ctx, applied, created, new_invoice=written.state == "inserted")
    return MirroredInvoice(written, applied, read_invoice(applied), customer_id)


def settled_payments(ctx: AgentContext, mirrored: MirroredInvoice) -> list[PaymentRef]:
    """The payments the invoice names, or (when it names none or only some) Stripe's list."""
    named = invoice_payment_refs(mirrored.invoice)
    if not invoice_payments_left_out(mirrored.invoice):
        return named
    fetched = list_invoice_payments(ctx, mirrored.snapshot.stripe_invoice_id)
    return read_invoice_payments(fetched) or named


def mirror_invoice_payments(
    ctx: AgentContext, event: dict[str, Any], mirrored: MirroredInvoice
) -> None:
    """One Payment row per settling payment, linked to the invoice and its customer."""
    for ref in settled_payments(ctx, mirrored):
        written = upsert_payment(
            ctx.session,
            stripe_charge_id=ref.stripe_charge_id,
            stripe_payment_intent_id=ref.stripe_payment_intent_id,
            values={
                "amount": ref.amount,
                "currency": mirrored.snapshot.currency,
                "status": "succeeded",
                "paid_at": ref.paid_at or mirrored.snapshot.paid_at or event_time(event),
            },
            links={
                "customer_id": mirrored.customer_id,
                "stripe_invoice_id": mirrored.snapshot.stripe_invoice_id,
            },
            created=event["created"],
        )
        post_payment(ctx.session, written.row_id)


def apply_invoice_paid(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    """Mirror invoice and payments; count the money and send a receipt (not for 0 amounts)."""
    mirrored = mirror_invoice(ctx, event)
    if not mirrored.written.applied:
        return "stale"
    mirror_invoice_payments(ctx, event, mirrored)
    request_commissions(ctx, event, mirrored.invoice, mirrored.customer_id)
    invoice = mirrored.snapshot
    report_invoice_closed(
        ctx,
        event,
        stripe_invoice_id=invoice.stripe_invoice_id,
        outcome="paid",
        at=invoice.paid_at or event_time(event),
        amount_paid=invoice.amount_paid,
    )
    if invoice.amount_paid <= 0:
        return "applied"
    if mirrored.written.before_value("status") != "paid":
        record_business_event(
            ctx,
            event,
            "payment_succeeded",
            customer_id=mirrored.customer_id,
            amount=invoice.amount_paid,
            currency=invoice.currency,
            data=invoice_facts(invoice),
        )
    notify(
        ctx,
        key=f"receipt:{invoice.stripe_invoice_id}",
        template="receipt",
        customer_id=mirrored.customer_id,
        to=invoice.customer_email,
        context={
            "amount": invoice.amount_paid,
            "currency": invoice.currency,
            "invoice_number": invoice.number or invoice.stripe_invoice_id,
            "hosted_invoice_url": invoice.hosted_invoice_url,
        },
    )
    return "applied"


def apply_invoice_payment_failed(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    """A failed attempt is a fact for analytics; the e-mail only while it is still news."""
    mirrored = mirror_invoice(ctx, event)
    invoice = read_invoice(event_object(event))
    record_business_event(
        ctx,
        event,
        "payment_failed",
        customer_id=mirrored.customer_id,
        amount=invoice.amount_due,
        currency=invoice.currency,
        data=invoice_facts(invoice),
    )
    report_payment_failed(
        ctx,
        event,
        stripe_invoice_id=invoice.stripe_invoice_id,
        failed_at=event_time(event),
        payment_intent=expandable_id(event_object(event).get("payment_intent")),
    )
    if mirrored.written.applied:
        notify(
            ctx,
            key=f"payment_failed:{invoice.stripe_invoice_id}:{invoice.attempt_count}",
            template="payment_failed",
            customer_id=mirrored.customer_id,
            to=invoice.customer_email,
            context={
                "amount": invoice.amount_due,
                "currency": invoice.currency,
                "hosted_invoice_url": invoice.hosted_invoice_url,
                "attempt_count": invoice.attempt_count,
            },
        )
    return outcome_of(mirrored.written)


def apply_invoice_payment_action_required(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    """The customer must confirm the payment (3-D Secure): send the hosted invoice link."""
    mirrored = mirror_invoice(ctx, event)
    if mirrored.written.applied:
        invoice = mirrored.snapshot
        notify(
            ctx,
            key=f"action_required:{invoice.stripe_invoice_id}:{invoice.attempt_count}",
            template="action_required",
            customer_id=mirrored.customer_id,
            to=invoice.customer_email,
            context={
                "amount": invoice.amount_due,
                "currency": invoice.currency,
                "hosted_invoice_url": invoice.hosted_invoice_url,
            },
        )
    return outcome_of(mirrored.written)


def invoice_facts(invoice: InvoiceSnapshot) -> dict[str, Any]:
    return {
        "stripe_invoice_id": invoice.stripe_invoice_id,
        "stripe_subscription_id": invoice.stripe_subscription_id,
        "billing_reason": invoice.billing_reason,
        "attempt_count": invoice.attempt_count,
    }
