"""Keep the mirror whole: fetch missing parents from Stripe, and ask Stripe to settle ties.

An event may name a customer or charge we have not mirrored yet (events arrive out of order);
the parent is fetched and upserted, never dropped. When Stripe is unreachable the task is
retried. Two events of one object in the same second leave the order in doubt: the object is
re-read from Stripe, whose current state wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from agents.billing.stripe_objects import read_customer
from agents.billing.stripe_payments import read_charge
from agents.context import AgentContext
from agents.ledger_journal.stripe_postings import post_payment
from core.clock import from_timestamp
from core.errors import RetryableError
from db.repositories.billing import (
    PaymentLink,
    TieRule,
    Upserted,
    customer_id_for,
    insert_customer_stub,
    payment_for_charge,
    upsert_customer,
    upsert_payment,
)
from tools.stripe.gateway import StripeGatewayError, StripeNotFound

Outcome = Literal["applied", "stale", "ignored"]

log = logging.getLogger(__name__)


def outcome_of(*writes: Upserted) -> Outcome:
    """Applied when any write took effect; stale when every one was older than the mirror."""
    return "applied" if any(w.applied for w in writes) else "stale"


def fetch_from_stripe(ctx: AgentContext, resource: str, object_id: str) -> dict[str, Any] | None:
    """The object as Stripe has it now; None if Stripe does not know it; retry if unreachable."""
    try:
        return ctx.stripe.retrieve(resource, object_id)
    except StripeNotFound:
        return None
    except StripeGatewayError as exc:
        raise RetryableError(f"Stripe unreachable fetching {resource} {object_id}: {exc}") from exc


def ensure_customer(ctx: AgentContext, stripe_customer_id: str, created: int) -> int:
    """Our customer id for a Stripe customer, fetching (or stubbing) it when not mirrored yet.

    The fetched state is at least as new as the event being applied, so it takes that event's
    time as its watermark; a customer Stripe does not know becomes a stub at watermark 0.
    """
    customer_id = customer_id_for(ctx.session, stripe_customer_id)
    if customer_id is not None:
        return customer_id
    obj = fetch_from_stripe(ctx, "customer", stripe_customer_id)
    if obj is None:
        return insert_customer_stub(ctx.session, stripe_customer_id)
    snapshot = read_customer(obj)
    return upsert_customer(
        ctx.session,
        stripe_customer_id,
        email=snapshot.email,
        name=snapshot.name,
        deleted_at=from_timestamp(created) if snapshot.deleted else None,
        created=created,
    ).row_id


def ensure_payment_for_charge(
    ctx: AgentContext, charge_id: str, created: int
) -> PaymentLink | None:
    """The payment mirroring a charge, fetching the charge when unknown; None if Stripe has none."""
    link = payment_for_charge(ctx.session, charge_id)
    if link is not None:
        return link
    obj = fetch_from_stripe(ctx, "charge", charge_id)
    if obj is None:
        return None
    return mirror_charge(ctx, obj, created)[0]


def mirror_charge(
    ctx: AgentContext, charge: dict[str, Any], created: int
) -> tuple[PaymentLink, Upserted]:
    """Upsert the Payment row of a charge, with its customer."""
    snapshot = read_charge(charge)
    customer_id = (
        ensure_customer(ctx, snapshot.stripe_customer_id, created)
        if snapshot.stripe_customer_id
        else None
    )
    written = upsert_payment(
        ctx.session,
        stripe_charge_id=snapshot.stripe_charge_id,
        stripe_payment_intent_id=snapshot.stripe_payment_intent_id,
        values=snapshot.columns(),
        links={"customer_id": customer_id},
        created=created,
    )
    post_payment(ctx.session, written.row_id)
    return PaymentLink(written.row_id, customer_id), written


def list_charge_refunds(ctx: AgentContext, charge_id: str) -> list[dict[str, Any]]:
    """Every refund of a charge, from Stripe (events of API >= 2022-11-15 do not embed them)."""
    try:
        return ctx.stripe.list_refunds(charge=charge_id)
    except StripeGatewayError as exc:
        raise RetryableError(f"Stripe unreachable listing refunds of {charge_id}: {exc}") from exc


def list_invoice_payments(ctx: AgentContext, invoice_id: str) -> list[dict[str, Any]]:
    """The invoice's InvoicePayments from Stripe; none where Stripe (or localstripe) has none."""
    try:
        return ctx.stripe.list_invoice_payments(invoice=invoice_id)
    except StripeNotFound as exc:
        log.info("Stripe lists no payments of invoice %s: %s", invoice_id, exc)
        return []
    except StripeGatewayError as exc:
        raise RetryableError(
            f"Stripe unreachable listing payments of invoice {invoice_id}: {exc}"
        ) from exc


Write = Callable[[dict[str, Any], TieRule], Upserted]


def write_settling_ties(
    ctx: AgentContext, resource: str, obj: dict[str, Any], write: Write
) -> tuple[Upserted, dict[str, Any]]:
    """Apply `obj`; on a same-second tie apply Stripe's current object instead.

    Returns the write and the object that was applied.
    """
    written = write(obj, "defer")
    if written.state != "tied":
        return written, obj
    current = fetch_from_stripe(ctx, resource, obj["id"]) or obj
    return write(current, "apply"), current
