"""`partners.checkout_referral`: a checkout carrying `metadata.referral_code` attributes its
customer; if the customer's first invoice was paid before this task ran, it converts now."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from agents.context import AgentContext
from agents.partners.affiliates import attribute_signup
from agents.partners.conversions import PaidInvoice, apply_invoice_paid
from core.clock import utcnow
from core.errors import MonetaError
from db.models import Invoice, Referral
from tools.stripe.amounts import invoice_tax


def apply_checkout_referral(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Attribute, or record why not (unknown code, already referred): never a task failure."""
    try:
        referral = attribute_signup(
            ctx.session,
            settings=ctx.settings,
            source="checkout",
            code=payload["code"],
            stripe_customer_id=payload.get("stripe_customer_id"),
            email=payload.get("email"),
        )
    except MonetaError as error:
        return {"attributed": False, "reason": error.code}
    converted = _convert_paid_invoice(ctx, referral) if referral.converted_at is None else None
    return {"attributed": True, "referral_id": referral.id, "converted": converted}


def _convert_paid_invoice(ctx: AgentContext, referral: Referral) -> dict[str, Any] | None:
    """Invoice.paid may have been handled before the checkout: convert on its first invoice."""
    if referral.customer_id is None:
        return None
    invoice = ctx.session.scalars(
        select(Invoice)
        .where(
            Invoice.customer_id == referral.customer_id,
            Invoice.status == "paid",
            Invoice.amount_paid > 0,
        )
        .order_by(Invoice.paid_at, Invoice.id)
    ).first()
    if invoice is None:
        return None
    stripe_invoice = ctx.stripe.retrieve("invoice", invoice.stripe_invoice_id)
    return apply_invoice_paid(
        ctx,
        PaidInvoice(
            stripe_invoice_id=invoice.stripe_invoice_id,
            stripe_customer_id=referral.stripe_customer_id,
            customer_id=referral.customer_id,
            email=referral.email,
            amount_paid=invoice.amount_paid,
            tax=invoice_tax(stripe_invoice),
            currency=invoice.currency,
            paid_at=invoice.paid_at or utcnow(),
        ),
    )
