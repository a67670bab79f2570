"""What an approver should see before deciding: the payment, its invoice, the customer's
history and the drift check (would the refund still go through as asked, right now?)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.approvals import repository as repo
from agents.billing.refundable import RefundBlock, refund_block
from db.models import Approval, Customer, Invoice, Payment, Refund


@dataclass(frozen=True)
class Evidence:
    payment: Payment | None
    invoice: Invoice | None
    customer: Customer | None
    customer_payments: Sequence[Payment]
    customer_refunds: Sequence[Refund]
    customer_approvals: Sequence[Approval]
    drift: RefundBlock | None  # None: the refund would still pass its checks


def approval_evidence(session: Session, approval: Approval) -> Evidence:
    payment = (
        session.get(Payment, int(approval.subject_id))
        if approval.subject_type == "payment" and approval.subject_id.isdigit()
        else None
    )
    invoice = None
    if payment is not None and payment.stripe_invoice_id:
        invoice = session.scalars(
            select(Invoice).where(Invoice.stripe_invoice_id == payment.stripe_invoice_id)
        ).first()
    customer = session.get(Customer, approval.customer_id) if approval.customer_id else None
    cid = approval.customer_id
    payments = session.scalars(
        select(Payment).where(Payment.customer_id == cid).order_by(Payment.id.desc()).limit(20)
    ).all()
    refunds = session.scalars(
        select(Refund)
        .where(Refund.payment_id.in_(select(Payment.id).where(Payment.customer_id == cid)))
        .order_by(Refund.id.desc())
        .limit(20)
    ).all()
    approvals = session.scalars(
        select(Approval)
        .where(Approval.customer_id == cid, Approval.id != approval.id)
        .order_by(Approval.id.desc())
        .limit(20)
    ).all()
    return Evidence(
        payment, invoice, customer, payments, refunds, approvals, _drift(session, approval, payment)
    )


def _drift(session: Session, approval: Approval, payment: Payment | None) -> RefundBlock | None:
    if payment is None:
        return RefundBlock("payment_missing", "the payment this refund is for is not on record")
    committed = repo.committed_refund_amount(session, payment.id, excluding=approval.id)
    return refund_block(repo.payment_facts(session, payment), approval.amount, committed=committed)
