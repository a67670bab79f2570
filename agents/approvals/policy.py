"""The approval rules as pure functions: the state machine, approvers needed, expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.errors import Conflict
from db.models import ApprovalStatus

S = ApprovalStatus

# Every legal move of an approval; anything else is refused by `check_transition`.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.APPROVED, S.REJECTED, S.EXPIRED}),
    S.APPROVED: frozenset({S.EXECUTED, S.FAILED}),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.EXECUTED: frozenset(),
    S.FAILED: frozenset(),
}

APPROVE = "approve"
REJECT = "reject"


class IllegalTransition(Conflict):
    code = "illegal_transition"


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, target: str) -> None:
    """Refuse a move the state machine does not allow."""
    if not can_transition(current, target):
        raise IllegalTransition(f"an approval cannot go from {current} to {target}")


def is_final(status: str) -> bool:
    return not TRANSITIONS.get(status)


def required_approvals(amount: int, two_approvers_above: int) -> int:
    """Amounts strictly over the threshold need two distinct approvers; others one."""
    return 2 if amount > two_approvers_above else 1


def expiry_time(requested_at: datetime, ttl_hours: int) -> datetime:
    return requested_at + timedelta(hours=ttl_hours)


def is_expired(expires_at: datetime, now: datetime) -> bool:
    return now >= expires_at


def status_after_decision(decision: str, approvals_so_far: int, required: int) -> str:
    """Status of a pending approval once `decision` is recorded (approvals_so_far includes it)."""
    if decision == REJECT:
        return S.REJECTED
    if decision != APPROVE:
        raise ValueError(f"unknown decision {decision!r}")
    return S.APPROVED if approvals_so_far >= required else S.PENDING
