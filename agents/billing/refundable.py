"""Whether a payment can still be refunded by a given amount: pure rules over plain facts.

Used twice: when a refund is requested, and again right before it is executed (drift guard).
"""

from __future__ import annotations

from dataclasses import dataclass

# A lost dispute already returned the money; an open one makes Stripe refuse refunds.
BLOCKING_DISPUTE_STATUSES = frozenset(
    {"lost", "needs_response", "under_review", "warning_needs_response", "warning_under_review"}
)


@dataclass(frozen=True)
class PaymentFacts:
    status: str
    amount: int
    amount_refunded: int
    currency: str
    dispute_statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class RefundBlock:
    """Why a refund cannot go ahead: a stable code and a sentence for people."""

    code: str
    message: str


def refundable_amount(facts: PaymentFacts) -> int:
    return max(0, facts.amount - facts.amount_refunded)


def refund_block(facts: PaymentFacts, amount: int, *, committed: int = 0) -> RefundBlock | None:
    """The reason `amount` cannot be refunded now, or None; `committed` is promised elsewhere."""
    if amount <= 0:
        return RefundBlock("amount_invalid", "the refund amount must be a positive integer")
    if facts.status != "succeeded":
        return RefundBlock("payment_not_succeeded", f"the payment is {facts.status}, not succeeded")
    disputed = sorted(set(facts.dispute_statuses) & BLOCKING_DISPUTE_STATUSES)
    if disputed:
        return RefundBlock("payment_disputed", f"the payment has a dispute ({', '.join(disputed)})")
    left = refundable_amount(facts) - committed
    if amount > left:
        return RefundBlock(
            "amount_exceeds_refundable",
            f"{amount} exceeds the {max(left, 0)} still refundable "
            f"(minor units of {facts.currency.upper()})",
        )
    return None
