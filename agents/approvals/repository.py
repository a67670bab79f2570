"""The queries behind approvals: the only place that reads or writes their rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from agents.approvals.policy import APPROVE, check_transition
from agents.billing.refundable import PaymentFacts
from core.clock import utcnow
from db.models import Approval, ApprovalDecision, ApprovalStatus, Dispute, Payment
from db.statements import affected_rows

REFUND_ACTION = "refund"
# Approvals that still promise money out of a payment.
OPEN_STATUSES = (ApprovalStatus.PENDING, ApprovalStatus.APPROVED)


def find_payment(session: Session, ref: str, *, lock: bool = False) -> Payment | None:
    """A payment by our id, its Stripe charge id or its payment intent id."""
    matches = [Payment.stripe_charge_id == ref, Payment.stripe_payment_intent_id == ref]
    if ref.isdigit():
        matches.append(Payment.id == int(ref))
    stmt = select(Payment).where(or_(*matches)).limit(1)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def payment_facts(session: Session, payment: Payment) -> PaymentFacts:
    disputes = session.scalars(select(Dispute.status).where(Dispute.payment_id == payment.id))
    return PaymentFacts(
        status=payment.status,
        amount=payment.amount,
        amount_refunded=payment.amount_refunded,
        currency=payment.currency,
        dispute_statuses=tuple(disputes),
    )


def committed_refund_amount(
    session: Session, payment_id: int, *, excluding: int | None = None
) -> int:
    """Minor units promised by open refund approvals of this payment (one may be excluded)."""
    stmt = select(func.coalesce(func.sum(Approval.amount), 0)).where(
        Approval.action == REFUND_ACTION,
        Approval.subject_type == "payment",
        Approval.subject_id == str(payment_id),
        Approval.status.in_(OPEN_STATUSES),
    )
    if excluding is not None:
        stmt = stmt.where(Approval.id != excluding)
    return int(session.scalar(stmt) or 0)


def lock_approval(session: Session, approval_id: int) -> Approval | None:
    """The approval row, locked until commit (PostgreSQL; SQLite's writer lock serializes)."""
    stmt = select(Approval).where(Approval.id == approval_id).with_for_update()
    return session.scalars(stmt).first()


def move_status(
    session: Session, approval_id: int, source: str, target: str, **values: Any
) -> bool:
    """Compare-and-set `source -> target`; False when the row was no longer in `source`."""
    check_transition(source, target)
    result = session.execute(
        update(Approval)
        .where(Approval.id == approval_id, Approval.status == source)
        .values(status=target, updated_at=utcnow(), **values)
        .execution_options(synchronize_session="fetch")
    )
    return affected_rows(result) == 1


def touch_if_pending(session: Session, approval_id: int) -> bool:
    """A no-op compare-and-set on `pending`: proves the row is still undecided, in this write."""
    result = session.execute(
        update(Approval)
        .where(Approval.id == approval_id, Approval.status == ApprovalStatus.PENDING)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return affected_rows(result) == 1


def count_approvals(session: Session, approval_id: int) -> int:
    stmt = select(func.count(ApprovalDecision.id)).where(
        ApprovalDecision.approval_id == approval_id, ApprovalDecision.decision == APPROVE
    )
    return int(session.scalar(stmt) or 0)


def decisions_of(session: Session, approval_id: int) -> Sequence[ApprovalDecision]:
    stmt = (
        select(ApprovalDecision)
        .where(ApprovalDecision.approval_id == approval_id)
        .order_by(ApprovalDecision.decided_at, ApprovalDecision.id)
    )
    return session.scalars(stmt).all()


def list_by_status(session: Session, status: str | None) -> Sequence[Approval]:
    stmt = select(Approval).order_by(Approval.id.desc())
    if status is not None:
        stmt = stmt.where(Approval.status == status)
    return session.scalars(stmt).all()


def pending_due(session: Session, now: datetime) -> Sequence[Approval]:
    stmt = select(Approval).where(
        Approval.status == ApprovalStatus.PENDING, Approval.expires_at <= now
    )
    return session.scalars(stmt.order_by(Approval.id)).all()
