"""Payments, refunds and disputes mirrored from Stripe, posted in the mirror's transaction.

Called by the billing agent right after it writes a payment or refund row, so the row and its
entry commit together (no window where one exists without the other, no extra task per
event). The dedupe keys (`payment:<our payment id>`, `refund:<Stripe refund id>`) make a
replayed webhook or a re-run handler post nothing new. A dispute posts what its balance
transactions moved: the withdrawal (`dispute:<id>:withdrawn`) and, when won, the
reinstatement (`dispute:<id>:reinstated`). Our payment id, not a Stripe id, keys
payments: one row stands for a charge and its payment intent, whichever arrived first.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.ledger_journal import rules as posting
from agents.ledger_journal.accounts import party
from agents.ledger_journal.writer import entry_id_for, post, reverse
from db.models import Dispute, Payment, Refund

SETTLED = "succeeded"
UNDONE_REFUND = frozenset({"failed", "canceled"})


def payment_key(payment_id: int) -> str:
    return f"payment:{payment_id}"


def refund_key(stripe_refund_id: str) -> str:
    return f"refund:{stripe_refund_id}"


def dispute_keys(stripe_dispute_id: str) -> tuple[str, str]:
    """(withdrawn key, reinstated key) of a dispute's journal entries."""
    return f"dispute:{stripe_dispute_id}:withdrawn", f"dispute:{stripe_dispute_id}:reinstated"


def _customer_party(customer_id: int | None) -> str:
    return party("customer", customer_id) if customer_id is not None else ""


def post_payment(session: Session, payment_id: int) -> int | None:
    """Post a payment once it has succeeded; the new entry's id, or None."""
    payment = session.get(Payment, payment_id)
    if payment is None or payment.status != SETTLED or payment.amount <= 0:
        return None
    return post(
        session,
        posting.payment_received(
            dedupe_key=payment_key(payment.id),
            amount=payment.amount,
            currency=payment.currency,
            customer_party=_customer_party(payment.customer_id),
            data={
                "payment_id": payment.id,
                "charge": payment.stripe_charge_id,
                "payment_intent": payment.stripe_payment_intent_id,
            },
        ),
        occurred_at=payment.paid_at,
    )


def post_refund(session: Session, stripe_refund_id: str) -> int | None:
    """Post a succeeded refund; reverse its entry if Stripe later reports it failed."""
    refund = session.scalars(
        select(Refund).where(Refund.stripe_refund_id == stripe_refund_id)
    ).first()
    if refund is None or refund.amount <= 0:
        return None
    key = refund_key(stripe_refund_id)
    if refund.status in UNDONE_REFUND:
        posted = entry_id_for(session, key)
        if posted is None:
            return None
        return reverse(
            session, posted, dedupe_key=f"{key}:reversal", reason=f"refund {refund.status}"
        )
    if refund.status != SETTLED:
        return None
    customer_id = None
    if refund.payment_id is not None:
        payment = session.get(Payment, refund.payment_id)
        customer_id = payment.customer_id if payment else None
    return post(
        session,
        posting.refund_issued(
            dedupe_key=key,
            amount=refund.amount,
            currency=refund.currency,
            customer_party=_customer_party(customer_id),
            data={"refund": stripe_refund_id, "payment_id": refund.payment_id},
        ),
        occurred_at=refund.refunded_at,
    )


def post_dispute(session: Session, stripe_dispute_id: str) -> list[int]:
    """Post the dispute's withdrawal and reinstatement once each; the new entries' ids."""
    dispute = session.scalars(
        select(Dispute).where(Dispute.stripe_dispute_id == stripe_dispute_id)
    ).first()
    if dispute is None or dispute.funds_withdrawn <= 0:
        return []
    payment = session.get(Payment, dispute.payment_id) if dispute.payment_id else None
    customer = _customer_party(payment.customer_id if payment else None)
    data = {"dispute": stripe_dispute_id, "payment_id": dispute.payment_id}
    withdrawn_key, reinstated_key = dispute_keys(stripe_dispute_id)
    drafts = [
        posting.dispute_funds_withdrawn(
            dedupe_key=withdrawn_key,
            amount=dispute.funds_withdrawn,
            fee=dispute.fees_charged,
            currency=dispute.currency,
            customer_party=customer,
            data=data,
        )
    ]
    if dispute.funds_reinstated > 0:
        drafts.append(
            posting.dispute_funds_reinstated(
                dedupe_key=reinstated_key,
                amount=dispute.funds_reinstated,
                fee_returned=dispute.fees_returned,
                currency=dispute.currency,
                customer_party=customer,
                data=data,
            )
        )
    posted = (post(session, draft) for draft in drafts)
    return [entry_id for entry_id in posted if entry_id is not None]
