"""The approval rules: transitions, approvers needed, expiry, and the refundability check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.approvals.policy import (
    APPROVE,
    REJECT,
    TRANSITIONS,
    IllegalTransition,
    can_transition,
    check_transition,
    expiry_time,
    is_expired,
    is_final,
    required_approvals,
    status_after_decision,
)
from agents.billing.refundable import PaymentFacts, refund_block, refundable_amount
from db.models import ApprovalStatus as S

STATUSES = list(TRANSITIONS)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.PENDING, S.APPROVED),
        (S.PENDING, S.REJECTED),
        (S.PENDING, S.EXPIRED),
        (S.APPROVED, S.EXECUTED),
        (S.APPROVED, S.FAILED),
    ],
)
def test_allowed_transitions(source: str, target: str) -> None:
    check_transition(source, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.PENDING, S.EXECUTED),  # money never moves without a decision
        (S.REJECTED, S.APPROVED),
        (S.EXPIRED, S.APPROVED),
        (S.EXECUTED, S.APPROVED),
        (S.APPROVED, S.PENDING),
        (S.FAILED, S.EXECUTED),
    ],
)
def test_illegal_transitions_are_refused(source: str, target: str) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(source, target)


@given(st.sampled_from(STATUSES), st.sampled_from(STATUSES))
def test_only_pending_and_approved_can_move(source: str, target: str) -> None:
    if can_transition(source, target):
        assert source in (S.PENDING, S.APPROVED)
    assert is_final(source) == (source not in (S.PENDING, S.APPROVED))


def test_nothing_returns_to_pending() -> None:
    assert all(S.PENDING not in targets for targets in TRANSITIONS.values())


def test_two_approvers_only_strictly_above_threshold() -> None:
    assert required_approvals(50_000, 50_000) == 1
    assert required_approvals(50_001, 50_000) == 2
    assert required_approvals(1, 50_000) == 1


def test_expiry_after_ttl() -> None:
    requested = datetime(2026, 11, 20, 12, tzinfo=UTC)
    deadline = expiry_time(requested, 72)
    assert deadline == requested + timedelta(hours=72)
    assert not is_expired(deadline, deadline - timedelta(seconds=1))
    assert is_expired(deadline, deadline)


@given(st.integers(min_value=1, max_value=3), st.integers(min_value=0, max_value=3))
def test_approval_completes_exactly_when_enough_approvers(required: int, approvals: int) -> None:
    status = status_after_decision(APPROVE, approvals, required)
    assert status == (S.APPROVED if approvals >= required else S.PENDING)


def test_one_rejection_rejects() -> None:
    assert status_after_decision(REJECT, 1, 2) == S.REJECTED


FACTS = PaymentFacts(status="succeeded", amount=10_000, amount_refunded=2_500, currency="usd")


def test_refund_within_what_is_left_is_allowed() -> None:
    assert refundable_amount(FACTS) == 7_500
    assert refund_block(FACTS, 7_500) is None


@pytest.mark.parametrize(
    ("facts", "amount", "committed", "code"),
    [
        (FACTS, 0, 0, "amount_invalid"),
        (FACTS, -5, 0, "amount_invalid"),
        (FACTS, 7_501, 0, "amount_exceeds_refundable"),
        (FACTS, 5_000, 3_000, "amount_exceeds_refundable"),
        (PaymentFacts("failed", 10_000, 0, "usd"), 100, 0, "payment_not_succeeded"),
        (PaymentFacts("succeeded", 10_000, 0, "usd", ("lost",)), 100, 0, "payment_disputed"),
        (
            PaymentFacts("succeeded", 10_000, 0, "usd", ("needs_response",)),
            1,
            0,
            "payment_disputed",
        ),
    ],
)
def test_refund_blocks(facts: PaymentFacts, amount: int, committed: int, code: str) -> None:
    block = refund_block(facts, amount, committed=committed)
    assert block is not None and block.code == code


def test_won_dispute_does_not_block() -> None:
    facts = PaymentFacts("succeeded", 10_000, 0, "usd", ("won",))
    assert refund_block(facts, 10_000) is None


@given(
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=-(10**9), max_value=10**9),
)
def test_allowed_refund_never_exceeds_what_is_left(amount: int, refunded: int, asked: int) -> None:
    facts = PaymentFacts("succeeded", amount, min(refunded, amount), "usd")
    if refund_block(facts, asked) is None:
        assert 0 < asked <= refundable_amount(facts)
