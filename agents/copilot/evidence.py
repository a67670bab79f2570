"""Evidence the copilot cites: likely duplicate charges and a payment's refundable remainder."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from db.models import Payment

DUPLICATE_WINDOW = timedelta(hours=24)


def duplicates(payments: Sequence[Payment]) -> dict[int, int]:
    """{later payment id: earlier payment id} for succeeded charges of the same customer,
    amount and currency within 24 hours of each other: the usual double charge."""
    found: dict[int, int] = {}
    paid = [p for p in payments if p.status == "succeeded"]
    paid.sort(key=lambda p: (p.paid_at or p.created_at, p.id))
    for i, later in enumerate(paid):
        for earlier in paid[:i]:
            same = (earlier.customer_id, earlier.amount, earlier.currency) == (
                later.customer_id,
                later.amount,
                later.currency,
            )
            gap = (later.paid_at or later.created_at) - (earlier.paid_at or earlier.created_at)
            if same and gap <= DUPLICATE_WINDOW and earlier.id not in found:
                found[later.id] = earlier.id
                break
    return found


def refundable(payment: Payment) -> int:
    return max(payment.amount - payment.amount_refunded, 0)
