"""Approval use cases: request a refund, decide, expire, read. Callers own the transaction.

Tasks are handed on through the `submit` the caller passes (orchestrator.outbox.submit), so
the approval row and the task that advances the refund graph commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from agents.approvals import repository as repo
from agents.approvals.policy import (
    APPROVE,
    REJECT,
    TRANSITIONS,
    expiry_time,
    is_expired,
    required_approvals,
    status_after_decision,
)
from agents.billing.refundable import refund_block
from core.clock import utcnow
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.settings import Settings, get_settings
from db.audit import record_audit
from db.models import Approval, ApprovalDecision, ApprovalStatus, Customer
from db.statements import insert_ignore

S = ApprovalStatus


class SubmitTask(Protocol):
    """`orchestrator.outbox.submit`'s shape: queue a task inside `session`'s transaction."""

    def __call__(
        self,
        session: Session,
        kind: str,
        payload: dict[str, Any],
        *,
        dedupe_key: str | None = None,
    ) -> int | None: ...


@dataclass(frozen=True)
class ApprovalDetail:
    approval: Approval
    decisions: Sequence[ApprovalDecision]


def operator_identity(name: str) -> str:
    """Operators are named case-insensitively, so 'Bob' cannot approve what 'bob' asked for."""
    return name.strip().lower()


def resume_key(approval_id: int) -> str:
    return f"refund-resume:{approval_id}"


# Operator actions carried out by the shared approved-action graph (agents/approved_actions),
# requested through `request_action`.
ACTIONS = frozenset(
    {"credit", "cancel", "extend_trial", "retry_task", "manual_charge", "write_off"}
)
ACTION_START, ACTION_RESUME = "approved_action.start", "approved_action.resume"

# Money actions whose graph waits at the gate: the task that resumes it once decided.
# Other areas register theirs here (payouts: "payout" -> "payout.resume").
RESUME_KINDS: dict[str, str] = {
    repo.REFUND_ACTION: "refund.resume",
    "payout": "payout.resume",
    "wallet_grant": "wallet.approval.resume",
    "wallet_clawback": "wallet.approval.resume",
    **dict.fromkeys(ACTIONS, ACTION_RESUME),
}


def _submit_resume(session: Session, approval: Approval, submit: SubmitTask) -> None:
    """Queue the task that lets the action's paused graph go on (once per approval)."""
    kind = RESUME_KINDS[approval.action]
    key = (
        resume_key(approval.id)
        if approval.action == repo.REFUND_ACTION
        else f"{approval.action}-resume:{approval.id}"
    )
    submit(session, kind, {"approval_id": approval.id}, dedupe_key=key)


def _open_approval(
    session: Session,
    *,
    action: str,
    subject: tuple[str, str],
    customer_id: int | None,
    amount: int,
    currency: str,
    reason: str,
    requester: str,
    submit: SubmitTask,
    settings: Settings,
    origin: str | None,
    audit_data: dict[str, Any],
    charge: str | None = None,
) -> Approval:
    """The one way an approval is opened: pending row, policy, audit entry, operators told."""
    now = utcnow()
    approval = Approval(
        action=action,
        status=S.PENDING,
        subject_type=subject[0],
        subject_id=subject[1],
        customer_id=customer_id,
        amount=amount,
        currency=currency.lower(),
        reason=reason,
        requested_by=requester,
        required_approvals=required_approvals(amount, settings.approval_two_approvers_above),
        expires_at=expiry_time(now, settings.approval_ttl_hours),
        created_at=now,
        updated_at=now,
    )
    session.add(approval)
    session.flush()
    approval.thread_id = f"{action}:{approval.id}"
    record_audit(
        session,
        actor=requester,
        action=f"{action}.requested",
        subject_type="approval",
        subject_id=approval.id,
        origin=origin,
        data=audit_data,
        detail=reason,
    )
    notice = _approval_needed_notice(session, approval, charge)
    submit(session, "notification.send", notice, dedupe_key=f"notify:{notice['key']}")
    return approval


def request_refund(
    session: Session,
    *,
    payment_ref: str,
    amount: int,
    reason: str,
    requested_by: str,
    submit: SubmitTask,
    settings: Settings | None = None,
    origin: str | None = None,
) -> Approval:
    """Create a pending refund approval and start its graph, after checking it is refundable."""
    settings = settings or get_settings()
    requester = operator_identity(requested_by)
    reason = reason.strip()
    if not requester:
        raise InvalidInput("the requester's name is required", code="requester_required")
    if not reason:
        raise InvalidInput("a reason is required", code="reason_required")
    payment = repo.find_payment(session, payment_ref.strip(), lock=True)
    if payment is None:
        raise NotFound(f"no payment {payment_ref!r} (our id, charge id or payment intent id)")
    committed = repo.committed_refund_amount(session, payment.id)
    block = refund_block(repo.payment_facts(session, payment), amount, committed=committed)
    if block is not None:
        error = InvalidInput if block.code == "amount_invalid" else Conflict
        raise error(block.message, code=block.code)

    approval = _open_approval(
        session,
        action=repo.REFUND_ACTION,
        subject=("payment", str(payment.id)),
        customer_id=payment.customer_id,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        requester=requester,
        submit=submit,
        settings=settings,
        origin=origin,
        audit_data={"payment_id": payment.id, "amount": amount, "currency": payment.currency},
        charge=payment.stripe_charge_id,
    )
    submit(
        session,
        "refund.start",
        {"approval_id": approval.id},
        dedupe_key=f"refund-start:{approval.id}",
    )
    return approval


def open_money_approval(
    session: Session,
    *,
    action: str,
    subject_type: str,
    subject_id: str,
    amount: int,
    currency: str,
    reason: str,
    requested_by: str,
    submit: SubmitTask,
    settings: Settings | None = None,
    origin: str | None = None,
    audit_data: dict[str, Any] | None = None,
) -> Approval:
    """A pending approval of an action another area executes (see RESUME_KINDS), announced.

    The caller starts its own graph in the same transaction; `decide()` resumes it.
    """
    settings = settings or get_settings()
    requester, reason = operator_identity(requested_by), reason.strip()
    if action not in RESUME_KINDS:
        raise InvalidInput(f"no executor for action {action!r}", code="unknown_action")
    if not requester or not reason:
        raise InvalidInput("the requester and a reason are required", code="reason_required")
    return _open_approval(
        session,
        action=action,
        subject=(subject_type, subject_id),
        customer_id=None,
        amount=amount,
        currency=currency,
        reason=reason,
        requester=requester,
        submit=submit,
        settings=settings,
        origin=origin,
        audit_data={"subject": f"{subject_type}:{subject_id}", **(audit_data or {})},
    )


def request_action(
    session: Session,
    *,
    action: str,
    subject_type: str,
    subject_id: str,
    customer_id: int | None,
    amount: int,
    currency: str,
    reason: str,
    requested_by: str,
    submit: SubmitTask,
    settings: Settings | None = None,
    origin: str | None = None,
    details: dict[str, Any] | None = None,
) -> Approval:
    """Create a pending approval of an operator action, tell the operators, and start its
    graph (it waits at the gate). `details` (e.g. a trial extension's days) are kept in the
    request's audit entry, where the graph's plan reads them."""
    settings = settings or get_settings()
    requester, reason = operator_identity(requested_by), reason.strip()
    if action not in ACTIONS:
        raise InvalidInput(f"unknown action {action!r}", code="unknown_action")
    if not requester or not reason:
        raise InvalidInput("the requester and a reason are required", code="reason_required")
    if amount < 0:
        raise InvalidInput("the amount cannot be negative", code="amount_invalid")
    approval = _open_approval(
        session,
        action=action,
        subject=(subject_type, subject_id),
        customer_id=customer_id,
        amount=amount,
        currency=currency,
        reason=reason,
        requester=requester,
        submit=submit,
        settings=settings,
        origin=origin,
        audit_data={
            "subject": f"{subject_type}:{subject_id}",
            "amount": amount,
            "currency": currency,
            "details": details or {},
        },
    )
    submit(
        session,
        ACTION_START,
        {"approval_id": approval.id},
        dedupe_key=f"approved-action-start:{approval.id}",
    )
    return approval


def _approval_needed_notice(
    session: Session, approval: Approval, charge_id: str | None
) -> dict[str, Any]:
    """Operators (to: None, an operator template) hear that a refund waits for them."""
    customer = session.get(Customer, approval.customer_id) if approval.customer_id else None
    return {
        "template": "approval_needed",
        "key": f"approval_needed:{approval.id}",
        "to": None,
        "customer_id": approval.customer_id,
        "context": {
            "customer": _customer_label(customer),
            "approval_id": approval.id,
            "action": approval.action,
            "amount": approval.amount,
            "currency": approval.currency,
            "reason": approval.reason,
            "requested_by": approval.requested_by,
            "required_approvals": approval.required_approvals,
            "expires_at": approval.expires_at.isoformat(),
            "charge": charge_id,
        },
    }


def _customer_label(customer: Customer | None) -> str:
    if customer is None:
        return "unknown"
    return customer.email or customer.name or customer.stripe_customer_id or f"#{customer.id}"


def decide(
    session: Session,
    approval_id: int,
    *,
    operator: str,
    approve: bool,
    note: str | None = None,
    submit: SubmitTask,
    origin: str | None = None,
) -> Approval:
    """Record one operator's decision; a compare-and-set from pending, so a late one loses."""
    who = operator_identity(operator)
    note = (note or "").strip() or None
    if not who:
        raise InvalidInput("the operator's name is required", code="operator_required")
    if not approve and note is None:
        raise InvalidInput("a rejection needs a reason", code="reason_required")
    approval = repo.lock_approval(session, approval_id)
    if approval is None:
        raise NotFound(f"no approval {approval_id}")
    now = utcnow()
    if approval.status != S.PENDING:
        raise Conflict(f"approval {approval_id} is already {approval.status}", code="not_pending")
    if is_expired(approval.expires_at, now):
        raise Conflict(f"approval {approval_id} expired at {approval.expires_at}", code="expired")
    if approve and who == approval.requested_by:
        raise Forbidden("the requester cannot approve their own request", code="self_approval")

    decision = APPROVE if approve else REJECT
    recorded = insert_ignore(
        session,
        ApprovalDecision,
        {
            "approval_id": approval_id,
            "operator": who,
            "decision": decision,
            "note": note,
            "decided_at": now,
        },
    )
    if recorded is None:
        raise Conflict(f"{who} has already decided on approval {approval_id}", code="duplicate")
    approvals = repo.count_approvals(session, approval_id)
    target = status_after_decision(decision, approvals, approval.required_approvals)
    if target == S.PENDING:
        moved = repo.touch_if_pending(session, approval_id)
    else:
        moved = repo.move_status(session, approval_id, S.PENDING, target, decided_at=now)
    if not moved:
        raise Conflict(f"approval {approval_id} was decided concurrently", code="not_pending")
    record_audit(
        session,
        actor=who,
        action=f"approval.{decision}",
        subject_type="approval",
        subject_id=approval_id,
        origin=origin,
        data={"approvals": approvals, "required": approval.required_approvals, "status": target},
        detail=note,
    )
    if target != S.PENDING:
        _submit_resume(session, approval, submit)
    return approval


def expire(session: Session, approval: Approval, *, now: datetime, submit: SubmitTask) -> bool:
    """pending -> expired (compare-and-set) and let the paused graph finish; False if decided."""
    if not repo.move_status(session, approval.id, S.PENDING, S.EXPIRED, decided_at=now):
        return False
    record_audit(
        session,
        actor="system",
        action="approval.expired",
        subject_type="approval",
        subject_id=approval.id,
        data={"expires_at": approval.expires_at.isoformat()},
    )
    _submit_resume(session, approval, submit)
    return True


def list_approvals(session: Session, status: str | None = None) -> Sequence[Approval]:
    if status is not None and status not in TRANSITIONS:
        known = ", ".join(TRANSITIONS)
        raise InvalidInput(f"unknown status {status!r}; one of {known}", code="unknown_status")
    return repo.list_by_status(session, status)


def get_approval(session: Session, approval_id: int) -> ApprovalDetail:
    approval = session.get(Approval, approval_id)
    if approval is None:
        raise NotFound(f"no approval {approval_id}")
    return ApprovalDetail(approval, repo.decisions_of(session, approval_id))
