"""The templates that exist and who reads each: a customer, or the operators."""

from __future__ import annotations

from typing import Literal

Audience = Literal["customer", "operators"]

TEMPLATE_AUDIENCE: dict[str, Audience] = {
    "welcome": "customer",
    "receipt": "customer",
    "payment_failed": "customer",
    "action_required": "customer",
    "trial_ending": "customer",
    "subscription_canceled": "customer",
    "refund_issued": "customer",
    "approval_needed": "operators",
}
