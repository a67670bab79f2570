"""Why a payment failed, asked of Stripe: the failed payment intent's `last_payment_error`.

Endive invoices name their payments only through InvoicePayments; legacy ones (localstripe)
carry `payment_intent` themselves. The payment intent fails before Stripe reports the invoice,
so its error is there when the invoice's failure is handled.
"""

from __future__ import annotations

import logging

from agents.context import AgentContext
from core.errors import RetryableError
from tools.stripe.gateway import StripeGatewayError, StripeNotFound

log = logging.getLogger(__name__)


def failed_payment_decline(
    ctx: AgentContext, stripe_invoice_id: str, payment_intent: str | None
) -> tuple[str | None, str | None] | None:
    """(error code, decline code) of the invoice's latest failed payment; None if unknown."""
    try:
        intent_id = payment_intent or _latest_payment_intent(ctx, stripe_invoice_id)
        if intent_id is None:
            return None
        intent = ctx.stripe.retrieve("payment_intent", intent_id)
    except StripeNotFound as exc:
        log.info("no payment intent to read the decline of %s from: %s", stripe_invoice_id, exc)
        return None
    except StripeGatewayError as exc:
        raise RetryableError(f"Stripe unreachable reading the decline: {exc}") from exc
    error = intent.get("last_payment_error") or {}
    return error.get("code"), error.get("decline_code")


def _latest_payment_intent(ctx: AgentContext, stripe_invoice_id: str) -> str | None:
    for entry in reversed(ctx.stripe.list_invoice_payments(invoice=stripe_invoice_id)):
        payment = entry.get("payment") or {}
        intent = payment.get("payment_intent")
        if isinstance(intent, dict):
            intent = intent.get("id")
        if isinstance(intent, str) and intent:
            return intent
    return None
