"""Approvals as plain JSON-ready dicts: one shape for the CLI's --json and the REST API."""

from __future__ import annotations

from typing import Any

from agents.approvals.service import ApprovalDetail
from db.models import Approval, ApprovalDecision


def approval_view(approval: Approval) -> dict[str, Any]:
    return {
        "id": approval.id,
        "action": approval.action,
        "status": approval.status,
        "amount": approval.amount,
        "currency": approval.currency,
        "subject_type": approval.subject_type,
        "subject_id": approval.subject_id,
        "customer_id": approval.customer_id,
        "reason": approval.reason,
        "requested_by": approval.requested_by,
        "required_approvals": approval.required_approvals,
        "thread_id": approval.thread_id,
        "created_at": approval.created_at.isoformat(),
        "expires_at": approval.expires_at.isoformat(),
        "decided_at": approval.decided_at.isoformat() if approval.decided_at else None,
        "executed_at": approval.executed_at.isoformat() if approval.executed_at else None,
        "result": approval.result,
        "error": approval.error,
    }


def decision_view(decision: ApprovalDecision) -> dict[str, Any]:
    return {
        "operator": decision.operator,
        "decision": decision.decision,
        "note": decision.note,
        "decided_at": decision.decided_at.isoformat(),
    }


def approval_detail_view(detail: ApprovalDetail) -> dict[str, Any]:
    return {
        **approval_view(detail.approval),
        "decisions": [decision_view(d) for d in detail.decisions],
    }
