"""Which function applies each Stripe event type; types not listed are stored and ignored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.billing.charge_events import (
    apply_charge_refunded,
    apply_dispute_closed,
    apply_dispute_created,
    apply_refund_updated,
)
from agents.billing.checkout_events import (
    apply_checkout_async_payment_failed,
    apply_checkout_async_payment_succeeded,
    apply_checkout_completed,
)
from agents.billing.customer_events import apply_customer_changed, apply_customer_deleted
from agents.billing.invoice_close_events import apply_invoice_closed
from agents.billing.invoice_events import (
    apply_invoice_paid,
    apply_invoice_payment_action_required,
    apply_invoice_payment_failed,
)
from agents.billing.mirror import Outcome
from agents.billing.subscription_events import (
    apply_subscription_changed,
    apply_subscription_trial_will_end,
)
from agents.billing.trial_events import apply_subscription_created
from agents.context import AgentContext
from agents.discounts.stripe_events import then_record_redemptions

EventHandler = Callable[[AgentContext, dict[str, Any]], Outcome]

HANDLERS: dict[str, EventHandler] = {
    "checkout.session.completed": then_record_redemptions(apply_checkout_completed),
    "checkout.session.async_payment_succeeded": apply_checkout_async_payment_succeeded,
    "checkout.session.async_payment_failed": apply_checkout_async_payment_failed,
    "customer.created": apply_customer_changed,
    "customer.updated": apply_customer_changed,
    "customer.deleted": apply_customer_deleted,
    "customer.subscription.created": then_record_redemptions(apply_subscription_created),
    "customer.subscription.updated": then_record_redemptions(apply_subscription_changed),
    "customer.subscription.deleted": apply_subscription_changed,
    "customer.subscription.paused": apply_subscription_changed,
    "customer.subscription.resumed": apply_subscription_changed,
    "customer.subscription.trial_will_end": apply_subscription_trial_will_end,
    "invoice.paid": apply_invoice_paid,
    # Sent with invoice.paid by Stripe, alone by localstripe; the receipt key makes one e-mail.
    "invoice.payment_succeeded": apply_invoice_paid,
    "invoice.payment_failed": apply_invoice_payment_failed,
    "invoice.payment_action_required": apply_invoice_payment_action_required,
    "invoice.voided": apply_invoice_closed,
    "invoice.marked_uncollectible": apply_invoice_closed,
    "charge.refunded": apply_charge_refunded,
    "refund.updated": apply_refund_updated,
    "charge.dispute.created": apply_dispute_created,
    "charge.dispute.closed": apply_dispute_closed,
}
