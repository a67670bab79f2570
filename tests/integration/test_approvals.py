"""The approval gate over a real database: validation, compare-and-set, approvers, expiry."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agents.approvals.expiry import expire_due_approvals
from agents.approvals.service import decide, get_approval, list_approvals, request_refund
from agents.context import AgentContext
from core.clock import frozen, utcnow
from core.errors import Conflict, Forbidden, InvalidInput, MonetaError, NotFound
from core.settings import Settings
from db.models import Approval, ApprovalStatus, AuditEntry, Task
from db.session import Database
from orchestrator.outbox import submit
from tests.support.refunds import PaidCustomer, seed_paid_customer


@pytest.fixture
def paid(database: Database) -> PaidCustomer:
    return seed_paid_customer(database, amount=100_000)


def request(
    database: Database, settings: Settings, amount: int, ref: str, by: str = "alice"
) -> int:
    with database.transaction() as s:
        approval = request_refund(
            s,
            payment_ref=ref,
            amount=amount,
            reason="customer asked",
            requested_by=by,
            submit=submit,
            settings=settings,
        )
        return approval.id


def decide_now(
    database: Database, approval_id: int, operator: str, approve: bool = True, note: str = ""
) -> Approval:
    with database.transaction() as s:
        return decide(
            s, approval_id, operator=operator, approve=approve, note=note or None, submit=submit
        )


def tasks(database: Database, kind: str) -> list[Task]:
    with database.transaction() as s:
        return list(s.scalars(select(Task).where(Task.kind == kind).order_by(Task.id)))


def status_of(database: Database, approval_id: int) -> str:
    with database.transaction() as s:
        approval = s.get(Approval, approval_id)
        assert approval is not None
        return approval.status


def test_request_creates_pending_approval_with_start_task_and_operator_notice(
    database: Database, settings: Settings, paid: PaidCustomer
) -> None:
    approval_id = request(database, settings, 2_500, paid.charge)
    with database.transaction() as s:
        approval = s.get(Approval, approval_id)
        assert approval is not None
        assert approval.status == ApprovalStatus.PENDING
        assert (approval.amount, approval.currency) == (2_500, "usd")
        assert approval.subject_id == str(paid.payment_id)
        assert approval.thread_id == f"refund:{approval_id}"
        assert approval.required_approvals == 1
        assert approval.expires_at - approval.created_at == timedelta(hours=72)
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "refund.requested")).one()
        assert audit.subject_id == str(approval_id) and audit.actor == "alice"
    [start] = tasks(database, "refund.start")
    assert start.payload == {"approval_id": approval_id}
    [notice] = tasks(database, "notification.send")
    assert notice.payload["template"] == "approval_needed" and notice.payload["to"] is None
    assert notice.payload["context"]["amount"] == 2_500


@pytest.mark.parametrize("ref", ["payment_id", "charge", "payment_intent"])
def test_payment_found_by_our_id_charge_or_payment_intent(
    database: Database, settings: Settings, paid: PaidCustomer, ref: str
) -> None:
    value = str(paid.payment_id) if ref == "payment_id" else getattr(paid, ref)
    approval_id = request(database, settings, 100, value)
    assert status_of(database, approval_id) == ApprovalStatus.PENDING


@pytest.mark.parametrize(
    ("amount", "ref", "error", "code"),
    [
        (100, "ch_missing", NotFound, "not_found"),
        (0, "ch_test_1", InvalidInput, "amount_invalid"),
        (100_001, "ch_test_1", Conflict, "amount_exceeds_refundable"),
    ],
)
def test_invalid_requests_are_refused_with_typed_errors(
    database: Database,
    settings: Settings,
    paid: PaidCustomer,
    amount: int,
    ref: str,
    error: type[MonetaError],
    code: str,
) -> None:
    with pytest.raises(error) as raised:
        request(database, settings, amount, ref)
    assert raised.value.code == code
    assert tasks(database, "refund.start") == []


def test_payment_that_did_not_succeed_cannot_be_refunded(
    database: Database, settings: Settings
) -> None:
    failed = seed_paid_customer(database, suffix="f", status="failed")
    with pytest.raises(Conflict) as raised:
        request(database, settings, 100, failed.charge)
    assert raised.value.code == "payment_not_succeeded"


def test_open_approvals_cannot_overcommit_a_payment(
    database: Database, settings: Settings, paid: PaidCustomer
) -> None:
    request(database, settings, 60_000, paid.charge)
    with pytest.raises(Conflict) as raised:
        request(database, settings, 40_001, paid.charge)
    assert raised.value.code == "amount_exceeds_refundable"
    request(database, settings, 40_000, paid.charge)


def test_requester_cannot_approve_own_request_whatever_the_case(
    database: Database, settings: Settings, paid: PaidCustomer
) -> None:
    approval_id = request(database, settings, 1_000, paid.charge, by="Alice")
    for name in ("alice", " ALICE "):
        with pytest.raises(Forbidden):
            decide_now(database, approval_id, name)
    assert status_of(database, approval_id) == ApprovalStatus.PENDING
    assert tasks(database, "refund.resume") == []


def test_approval_resumes_the_graph_once(
    database: Database, settings: Settings, paid: PaidCustomer
) -> None:
    approval_id = request(database, settings, 1_000, paid.charge)
    approval = decide_now(database, approval_id, "bob", note="ok")
    assert approval.status == ApprovalStatus.APPROVED and approval.decided_at is not None
    with pytest.raises(Conflict) as raised:
        decide_now(database, approval_id, "carol")
    assert raised.value.code == "not_pending"
    [resume] = tasks(database, "refund.resume")
    assert resume.payload == {"approval_id": approval_id}
    assert resume.dedupe_key == f"refund-resume:{approval_id}"


def test_rejection_needs_a_reason_and_ends_the_request(
    database: Database, settings: Settings, paid: PaidCustomer
) -> None:
    approval_id = request(database, settings, 1_000, paid.charge)
    with pytest.raises(InvalidInput):
        decide_now(database, approval_id, "bob", approve=False)
    approval = decide_now(database, approval_id, "bob", approve=False, note="not eligible")
    assert approval.status == ApprovalStatus.REJECTED
    assert len(tasks(database, "refund.resume")) == 1


def test_amount_over_threshold_needs_two_distinct_approvers(
    database: Database, settings: Settings, paid: PaidCustomer
) -> None:
    approval_id = request(
        database, settings, settings.approval_two_approvers_above + 1, paid.charge
    )
    assert decide_now(database, approval_id, "bob").status == ApprovalStatus.PENDING
    assert tasks(database, "refund.resume") == []
    with pytest.raises(Conflict) as raised:
        decide_now(database, approval_id, "BOB")
    assert raised.value.code == "duplicate"
    assert decide_now(database, approval_id, "carol").status == ApprovalStatus.APPROVED
    assert len(tasks(database, "refund.resume")) == 1
    with database.transaction() as s:
        detail = get_approval(s, approval_id)
        assert [d.operator for d in detail.decisions] == ["bob", "carol"]
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_id == str(approval_id))
        ).all()
    assert actions.count("approval.approve") == 2


def test_expired_request_cannot_be_decided(
    database: Database, settings: Settings, paid: PaidCustomer
) -> None:
    approval_id = request(database, settings, 1_000, paid.charge)
    overdue = utcnow() + timedelta(hours=settings.approval_ttl_hours, seconds=1)
    with frozen(overdue), pytest.raises(Conflict) as raised:
        decide_now(database, approval_id, "bob")
    assert raised.value.code == "expired"


def test_expiry_task_expires_overdue_requests_and_resumes_their_graphs(
    database: Database, settings: Settings, paid: PaidCustomer
) -> None:
    overdue = request(database, settings, 1_000, paid.charge)
    later = utcnow() + timedelta(hours=settings.approval_ttl_hours, seconds=1)
    with frozen(later - timedelta(hours=1)):
        fresh = request(database, settings, 1_000, paid.charge)
    with frozen(later), database.transaction() as s:
        result = expire_due_approvals(_context(s, database, settings), {})
    assert result == {"expired": [overdue]}
    assert status_of(database, overdue) == ApprovalStatus.EXPIRED
    assert status_of(database, fresh) == ApprovalStatus.PENDING
    assert [t.payload for t in tasks(database, "refund.resume")] == [{"approval_id": overdue}]
    with pytest.raises(Conflict):
        decide_now(database, overdue, "bob")


def _context(session: Any, database: Database, settings: Settings) -> AgentContext:
    def submit_here(kind: str, payload: dict[str, Any], **kw: Any) -> int | None:
        return submit(session, kind, payload, **kw)

    return AgentContext(
        session=session,
        database=database,
        settings=settings,
        stripe=None,  # type: ignore[arg-type]
        mailer=None,  # type: ignore[arg-type]
        submit=submit_here,
    )


def test_concurrent_decisions_exactly_one_wins(
    database: Database, settings: Settings, paid: PaidCustomer
) -> None:
    approval_id = request(database, settings, 1_000, paid.charge)
    operators = ["bob", "carol", "dave", "erin"]
    barrier = threading.Barrier(len(operators))
    outcomes: dict[str, str] = {}

    def decide_in_thread(operator: str) -> None:
        barrier.wait()
        try:
            approve = operator != "carol"
            decide_now(database, approval_id, operator, approve=approve, note="race")
            outcomes[operator] = "won"
        except Conflict as error:
            outcomes[operator] = error.code

    threads = [threading.Thread(target=decide_in_thread, args=(op,)) for op in operators]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes.values()).count("won") == 1
    assert set(outcomes.values()) == {"won", "not_pending"}
    winner = next(op for op, outcome in outcomes.items() if outcome == "won")
    expected = ApprovalStatus.REJECTED if winner == "carol" else ApprovalStatus.APPROVED
    assert status_of(database, approval_id) == expected
    assert len(tasks(database, "refund.resume")) == 1
    with database.transaction() as s:
        assert [d.operator for d in get_approval(s, approval_id).decisions] == [winner]


def test_list_filters_by_status_and_refuses_unknown_status(
    database: Database, settings: Settings, paid: PaidCustomer
) -> None:
    first = request(database, settings, 1_000, paid.charge)
    second = request(database, settings, 1_000, paid.charge)
    decide_now(database, first, "bob")
    with database.transaction() as s:
        assert [a.id for a in list_approvals(s, ApprovalStatus.PENDING)] == [second]
        assert [a.id for a in list_approvals(s)] == [second, first]
        with pytest.raises(InvalidInput):
            list_approvals(s, "bogus")
