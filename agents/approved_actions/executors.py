"""The one Stripe call of each approved action, after checking Stripe's state still allows it.

`retaken` says an earlier attempt under the same key may have reached Stripe: a state that
already shows our change (a canceled subscription, the planned trial end, an uncollectible
invoice) is then that attempt's outcome, not a reason to refuse. Credits and charges rely on
Stripe's idempotency key, which it keeps for a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.stripe.gateway import StripeGateway


@dataclass(frozen=True)
class Outcome:
    response: dict[str, Any] | None = None
    refusal: str | None = None  # why it was not done (recorded as the approval's failure)


def execute(stripe: StripeGateway, plan: dict[str, Any], *, retaken: bool) -> Outcome:
    """Carry out `plan` at Stripe under its key; Stripe's errors propagate to the caller."""
    key, action = plan["idempotency_key"], plan["action"]
    metadata = {"approval_id": str(plan["approval_id"])}
    match action:
        case "credit":
            return Outcome(
                stripe.create_balance_transaction(
                    customer=plan["stripe_customer"],
                    amount=-plan["amount"],  # negative: credit toward the next invoice
                    currency=plan["currency"],
                    description=plan["description"],
                    idempotency_key=key,
                    metadata=metadata,
                )
            )
        case "manual_charge":
            return Outcome(
                stripe.charge_one_off(
                    customer=plan["stripe_customer"],
                    amount=plan["amount"],
                    currency=plan["currency"],
                    description=plan["description"],
                    idempotency_key=key,
                    metadata=metadata,
                )
            )
        case "cancel":
            sub = stripe.retrieve("subscription", plan["subject"])
            if sub.get("status") == "canceled":
                return Outcome(sub) if retaken else Outcome(refusal="already canceled")
            return Outcome(stripe.cancel_subscription(plan["subject"], idempotency_key=key))
        case "extend_trial":
            sub = stripe.retrieve("subscription", plan["subject"])
            if retaken and sub.get("trial_end") == plan["trial_end"]:
                return Outcome(sub)
            if sub.get("status") != "trialing":
                return Outcome(
                    refusal=f"no longer trialing (the subscription is {sub.get('status')})"
                )
            return Outcome(
                stripe.set_trial_end(
                    plan["subject"], trial_end=plan["trial_end"], idempotency_key=key
                )
            )
        case "write_off":
            invoice = stripe.retrieve("invoice", plan["subject"])
            status = invoice.get("status")
            if retaken and status == "uncollectible":
                return Outcome(invoice)
            if status != "open":
                return Outcome(refusal=f"the invoice is {status}, not open")
            return Outcome(stripe.mark_invoice_uncollectible(plan["subject"], idempotency_key=key))
    raise ValueError(f"{action!r} is not carried out at Stripe")
