"""The templates that exist and who reads each: a customer, or the operators."""

from __future__ import annotations

from typing import Literal

Audience = Literal["customer", "operators"]

TEMPLATE_AUDIENCE: dict[str, Audience] = {
    "welcome": "customer",
    "receipt": "customer",
    "payment_failed": "customer",
    "dunning_reminder": "customer",
    "action_required": "customer",
    "trial_ending": "customer",
    "subscription_canceled": "customer",
    "refund_issued": "customer",
    "credit_granted": "customer",
    "usage_alert": "customer",
    "win_back": "customer",
    "approval_needed": "operators",
    "daily_narrative": "operators",
    "operator_alert": "operators",
}

# The facts each template shows; `notify()` refuses a request missing any (fail in the caller).
REQUIRED_FACTS: dict[str, frozenset[str]] = {
    "welcome": frozenset({"name"}),
    "receipt": frozenset({"amount", "currency", "invoice_number", "hosted_invoice_url"}),
    "payment_failed": frozenset({"amount", "currency", "hosted_invoice_url"}),
    "dunning_reminder": frozenset(
        {"amount", "currency", "hosted_invoice_url", "final", "days_overdue"}
    ),
    "action_required": frozenset({"hosted_invoice_url"}),
    "trial_ending": frozenset({"trial_end", "plan"}),
    "subscription_canceled": frozenset({"plan", "ends_at"}),
    "refund_issued": frozenset({"amount", "currency"}),
    "credit_granted": frozenset({"amount", "currency"}),
    "usage_alert": frozenset({"feature", "used", "limit", "plan"}),
    "win_back": frozenset({"plan", "resubscribe_url"}),
    "approval_needed": frozenset(
        {"approval_id", "action", "amount", "currency", "customer", "requested_by", "reason"}
    ),
    "daily_narrative": frozenset({"day", "text", "source"}),
    "operator_alert": frozenset({"title", "detail"}),
}
