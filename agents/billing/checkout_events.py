"""Handlers of checkout.session.completed and its async payment outcomes.

A session is fulfilled only once its money is in: `payment_status` paid or
no_payment_required. An unpaid session (bank debits, vouchers) waits for
`checkout.session.async_payment_succeeded`; `..._failed` tells the customer.
"""

from __future__ import annotations

from typing import Any

from agents.billing.checkout_links import link_reference_customer
from agents.billing.followups import record_business_event, request_provisioning, send_welcome
from agents.billing.mirror import Outcome, ensure_customer
from agents.billing.partner_tasks import request_referral_attribution
from agents.billing.stripe_objects import event_object, event_time
from agents.billing.stripe_payments import CheckoutSnapshot, read_checkout_session
from agents.context import AgentContext
from agents.ledger_journal.stripe_postings import post_payment
from agents.notification.requests import notify
from db.repositories.billing import fill_customer_contact, upsert_payment

TOKEN_PURCHASE = "token_purchase"  # checkout metadata `kind` of an AI-token purchase


def apply_checkout_completed(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    checkout = read_checkout_session(event_object(event))
    if not checkout.is_paid:
        return "ignored"  # fulfilled by checkout.session.async_payment_succeeded
    return fulfil_checkout(ctx, event, checkout)


def apply_checkout_async_payment_succeeded(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    return fulfil_checkout(ctx, event, read_checkout_session(event_object(event)))


def apply_checkout_async_payment_failed(ctx: AgentContext, event: dict[str, Any]) -> Outcome:
    checkout = read_checkout_session(event_object(event))
    customer_id = checkout_customer(ctx, event, checkout)
    record_business_event(
        ctx,
        event,
        "payment_failed",
        customer_id=customer_id,
        amount=checkout.amount_total,
        currency=checkout.currency,
        data={"stripe_checkout_session_id": checkout.stripe_session_id, "mode": checkout.mode},
    )
    notify(
        ctx,
        key=f"payment_failed:{checkout.stripe_session_id}",
        template="payment_failed",
        customer_id=customer_id,
        to=checkout.email,
        context={
            "amount": checkout.amount_total,
            "currency": checkout.currency,
            "hosted_invoice_url": checkout.url,
        },
    )
    return "applied"


def checkout_customer(
    ctx: AgentContext, event: dict[str, Any], checkout: CheckoutSnapshot
) -> int | None:
    """The session's customer (fetched if new, contact filled in); None for guest checkouts."""
    if not checkout.stripe_customer_id:
        return None
    link_reference_customer(ctx.session, event_object(event), checkout.stripe_customer_id)
    customer_id = ensure_customer(ctx, checkout.stripe_customer_id, event["created"])
    fill_customer_contact(ctx.session, customer_id, email=checkout.email, name=checkout.name)
    return customer_id


def fulfil_checkout(
    ctx: AgentContext, event: dict[str, Any], checkout: CheckoutSnapshot
) -> Outcome:
    """Record a one-off payment, provision the customer and welcome them.

    Subscription checkouts are paid through their first invoice: invoice.paid counts that money.
    """
    customer_id = checkout_customer(ctx, event, checkout)
    request_referral_attribution(ctx, event, checkout)
    if checkout.mode == "payment" and checkout.stripe_payment_intent_id:
        written = upsert_payment(
            ctx.session,
            stripe_charge_id=None,
            stripe_payment_intent_id=checkout.stripe_payment_intent_id,
            values={
                "amount": checkout.amount_total,
                "currency": checkout.currency,
                "status": "succeeded",
                "paid_at": event_time(event),
            },
            links={"customer_id": customer_id},
            created=event["created"],
        )
        post_payment(ctx.session, written.row_id)
        if written.applied and written.before_value("status") != "succeeded":
            record_business_event(
                ctx,
                event,
                "payment_succeeded",
                customer_id=customer_id,
                amount=checkout.amount_total,
                currency=checkout.currency,
                data={"stripe_checkout_session_id": checkout.stripe_session_id, "mode": "payment"},
            )
    request_token_credit(ctx, event, checkout, customer_id)
    if customer_id is not None and checkout.stripe_customer_id:
        request_provisioning(ctx, event, customer_id)
        send_welcome(
            ctx,
            stripe_customer_id=checkout.stripe_customer_id,
            customer_id=customer_id,
            to=checkout.email,
        )
    return "applied"


def request_token_credit(
    ctx: AgentContext, event: dict[str, Any], checkout: CheckoutSnapshot, customer_id: int | None
) -> None:
    """A paid token purchase: the wallet agent credits it, once per session."""
    metadata = event_object(event).get("metadata") or {}
    if metadata.get("kind") != TOKEN_PURCHASE:
        return
    ctx.submit(
        "wallet.credit",
        {
            "session_id": checkout.stripe_session_id,
            "customer_id": customer_id,
            "payment_intent": checkout.stripe_payment_intent_id,
            "amount": checkout.amount_total,
            "currency": checkout.currency,
            "metadata": dict(metadata),
        },
        dedupe_key=f"wallet-credit:{checkout.stripe_session_id}",
    )
