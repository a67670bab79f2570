"""`partners.payment_refunded` / `partners.payment_disputed`: take commissions back.

Works on the invoice the payment settled: the share of the invoice's money taken back
(refunds so far, or all of it on a dispute) sets how much of each commission should be
clawed back; what is missing is clawed back now, under a key naming the refund or dispute.
A held commission's clawback is held with it; a rejected one needs none. A won dispute
restores the clawbacks it caused (earned again), then refunds still standing are clawed back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agents.partners import repository as repo
from agents.partners.commission import clawback_due
from agents.partners.postings import post_clawback, post_restored
from core.clock import utcnow
from db.models import PartnerCommission
from db.models.partners import CommissionKind, CommissionStatus
from db.statements import insert_ignore

REFUND, DISPUTE = "refund", "dispute"


def apply_money_taken_back(
    session: Session, *, stripe_charge_id: str, cause: str, cause_id: str
) -> dict[str, Any]:
    """Claw back what the payment's refunds (cumulative) or dispute took from its invoice."""
    payment = repo.payment_by_charge(session, stripe_charge_id)
    if payment is None or not payment.stripe_invoice_id:
        return {"clawbacks": [], "skipped": "payment not on an invoice"}
    payments = repo.invoice_payments(session, payment.stripe_invoice_id)
    paid = sum(p.amount for p in payments)
    if cause == DISPUTE:
        taken_back = paid
    else:
        taken_back = sum(repo.refunded_amount(session, p) for p in payments)
    made = []
    for commission in repo.commissions_on_invoice(session, payment.stripe_invoice_id):
        if commission.status == CommissionStatus.REJECTED:
            continue
        due = clawback_due(
            commission.amount, paid, taken_back, repo.clawed_back(session, commission.id)
        )
        if due > 0:
            clawback = _record_clawback(session, commission, due, f"{cause}:{cause_id}")
            if clawback is not None:
                made.append(clawback.id)
    return {"clawbacks": made}


def _record_clawback(
    session: Session, commission: PartnerCommission, amount: int, cause: str
) -> PartnerCommission | None:
    now = utcnow()
    clawback_id = insert_ignore(
        session,
        PartnerCommission,
        {
            "source_key": f"clawback:{commission.id}:{cause}",
            "partner_kind": commission.partner_kind,
            "partner_id": commission.partner_id,
            "kind": CommissionKind.CLAWBACK,
            "status": commission.status,
            "customer_id": commission.customer_id,
            "referral_id": commission.referral_id,
            "stripe_invoice_id": commission.stripe_invoice_id,
            "reverses_id": commission.id,
            "basis_amount": commission.basis_amount,
            "rate_bps": commission.rate_bps,
            "amount": amount,
            "currency": commission.currency,
            "created_at": now,
            "updated_at": now,
        },
    )
    if clawback_id is None:
        return None
    clawback = session.get(PartnerCommission, clawback_id)
    assert clawback is not None
    if clawback.status == CommissionStatus.EARNED:
        post_clawback(session, clawback, commission)
    return clawback


def restore_after_dispute_won(
    session: Session, *, stripe_charge_id: str, cause_id: str
) -> dict[str, Any]:
    """Undo the clawbacks dispute `cause_id` caused; re-claw what refunds still took back."""
    restored = []
    for clawback in repo.clawbacks_by_cause(session, f"{DISPUTE}:{cause_id}"):
        if clawback.status not in (CommissionStatus.EARNED, CommissionStatus.HELD):
            continue
        if clawback.status == CommissionStatus.EARNED:
            post_restored(session, clawback)
        clawback.status = CommissionStatus.RESTORED
        restored.append(clawback.id)
    refunds = apply_money_taken_back(
        session,
        stripe_charge_id=stripe_charge_id,
        cause=REFUND,
        cause_id=f"after-{DISPUTE}:{cause_id}",
    )
    return {"restored": restored, "clawbacks": refunds["clawbacks"]}
