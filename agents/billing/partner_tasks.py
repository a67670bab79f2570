"""Work billing hands to the partners agent: commissions on paid invoices, clawbacks on
refunds and disputes, and checkout referral codes. Tasks only, each with a dedupe key:
billing knows nothing of affiliates or agencies.
"""

from __future__ import annotations

from typing import Any

from agents.billing.stripe_objects import event_object, event_time
from agents.billing.stripe_payments import CheckoutSnapshot
from agents.context import AgentContext
from tools.stripe.amounts import invoice_tax


def request_commissions(
    ctx: AgentContext, event: dict[str, Any], invoice: dict[str, Any], customer_id: int
) -> None:
    """A paid invoice: the partners agent decides who, if anyone, earns on it."""
    amount_paid = int(invoice.get("amount_paid") or 0)
    if amount_paid <= 0:
        return
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at")
    customer = invoice.get("customer")
    ctx.submit(
        "partners.invoice_paid",
        {
            "stripe_invoice_id": invoice["id"],
            "stripe_customer_id": customer.get("id") if isinstance(customer, dict) else customer,
            "customer_id": customer_id,
            "email": invoice.get("customer_email"),
            "amount_paid": amount_paid,
            "tax": invoice_tax(invoice),
            "currency": (invoice.get("currency") or "usd").lower(),
            "paid_at": (
                event_time({"created": paid_at}) if isinstance(paid_at, int) else event_time(event)
            ).isoformat(),
        },
        dedupe_key=f"partners:invoice:{invoice['id']}",
    )


def request_clawback(ctx: AgentContext, *, charge_id: str | None, cause: str, ref: str) -> None:
    """Money went back (`refund` or `dispute`): commissions on it are clawed back."""
    if not charge_id:
        return
    ctx.submit(
        f"partners.payment_{'disputed' if cause == 'dispute' else 'refunded'}",
        {"stripe_charge_id": charge_id, "cause_id": ref},
        dedupe_key=f"partners:{cause}:{ref}",
    )


def request_commission_restore(ctx: AgentContext, *, charge_id: str | None, ref: str) -> None:
    """A dispute ended with the payment standing: its commission clawbacks are undone."""
    if not charge_id:
        return
    ctx.submit(
        "partners.dispute_won",
        {"stripe_charge_id": charge_id, "cause_id": ref},
        dedupe_key=f"partners:dispute-won:{ref}",
    )


def request_referral_attribution(
    ctx: AgentContext, event: dict[str, Any], checkout: CheckoutSnapshot
) -> None:
    """A checkout with `metadata.referral_code`: attribute its customer to the affiliate."""
    code = (event_object(event).get("metadata") or {}).get("referral_code")
    if not code or not checkout.stripe_customer_id:
        return
    ctx.submit(
        "partners.checkout_referral",
        {
            "code": str(code),
            "stripe_customer_id": checkout.stripe_customer_id,
            "email": checkout.email,
            "stripe_checkout_session_id": checkout.stripe_session_id,
        },
        dedupe_key=f"partners:checkout:{checkout.stripe_session_id}",
    )
