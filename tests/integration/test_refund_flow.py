"""Refunds end to end in-process: request -> paused graph -> decision -> worker -> one refund."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import select, update

from agents.approvals.service import decide, request_refund
from agents.billing import graph as billing
from agents.billing.refunds import advance_refund, build_refund_graph
from agents.checkpoints import CheckpointerFactory, checkpointer_factory
from agents.context import AgentContext
from core.errors import Conflict
from core.settings import Settings
from db.models import Approval, ApprovalStatus, ExternalCall, Payment, Refund, Task, TaskStatus
from db.session import Database
from orchestrator.outbox import submit
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from orchestrator.worker import Worker
from tests.support.refunds import PaidCustomer, seed_paid_customer
from tests.support.waiting import wait_until
from tools.stripe.gateway import StripeGatewayError
from tools.stripe.sandbox import SandboxGateway


class InstrumentedGateway:
    """The sandbox, counting refund calls and running a hook around each (faults, pauses)."""

    label = "instrumented offline sandbox"

    def __init__(self, inner: SandboxGateway) -> None:
        self.inner = inner
        self.calls = 0
        self.before_call: Callable[[int], None] | None = None
        self.after_call: Callable[[int], None] | None = None
        self._lock = threading.Lock()

    def create_refund(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            call = self.calls
        if self.before_call:
            self.before_call(call)
        refund = self.inner.create_refund(**kwargs)
        if self.after_call:
            self.after_call(call)
        return refund

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def stripe(settings: Settings) -> InstrumentedGateway:
    return InstrumentedGateway(SandboxGateway(settings.data_dir / "stripe-sandbox.db"))


@pytest.fixture
def checkpoints(settings: Settings) -> CheckpointerFactory:
    return checkpointer_factory(settings.effective_database_url)


@pytest.fixture
def paid(database: Database, stripe: InstrumentedGateway) -> PaidCustomer:
    return seed_paid_customer(database, amount=8_000, sandbox=stripe.inner)


@pytest.fixture
def start_worker(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    stripe: InstrumentedGateway,
    checkpoints: CheckpointerFactory,
) -> Iterator[Callable[[str], Worker]]:
    """Start billing workers (one thread, one message at a time each); stopped at teardown."""
    tools = {"stripe": stripe, "checkpointer_factory": checkpoints}
    workers: list[Worker] = []

    def start(name: str) -> Worker:
        runtime = Runtime(settings, database, redis_client, transport, tools)
        worker = Worker(
            runtime,
            ["billing"],
            concurrency=1,
            batch=1,
            handlers={"billing": billing.handle},
            name=name,
        )
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    for worker in workers:
        worker.join(10)


def request(database: Database, settings: Settings, paid: PaidCustomer, amount: int) -> int:
    with database.transaction() as s:
        return request_refund(
            s,
            payment_ref=paid.charge,
            amount=amount,
            reason="duplicate charge",
            requested_by="alice",
            submit=submit,
            settings=settings,
        ).id


def approve(database: Database, approval_id: int, operator: str = "bob") -> None:
    with database.transaction() as s:
        decide(s, approval_id, operator=operator, approve=True, note="ok", submit=submit)


def paused_at_gate(checkpoints: CheckpointerFactory, approval_id: int) -> bool:
    with checkpoints() as saver:
        graph = build_refund_graph().compile(checkpointer=saver)
        state = graph.get_state({"configurable": {"thread_id": f"refund:{approval_id}"}})
    return state.next == ("await_approval",) and bool(state.interrupts)


def approval(database: Database, approval_id: int) -> Approval:
    with database.transaction() as s:
        row = s.get(Approval, approval_id)
        assert row is not None
        return row


def refunds(database: Database) -> list[Refund]:
    with database.transaction() as s:
        return list(s.scalars(select(Refund)))


def tasks(database: Database, kind: str) -> list[Task]:
    with database.transaction() as s:
        return list(s.scalars(select(Task).where(Task.kind == kind).order_by(Task.id)))


def settled(database: Database, approval_id: int, status: str) -> Callable[[], bool]:
    """The approval reached `status` and no refund task is left to run."""

    def check() -> bool:
        resumes = tasks(database, "refund.resume") + tasks(database, "refund.start")
        return approval(database, approval_id).status == status and all(
            t.status == TaskStatus.DONE for t in resumes
        )

    return check


def test_approved_refund_pauses_at_gate_then_refunds_once_and_notifies_customer(
    database: Database,
    settings: Settings,
    paid: PaidCustomer,
    stripe: InstrumentedGateway,
    checkpoints: CheckpointerFactory,
    start_worker: Callable[[str], Worker],
) -> None:
    start_worker("w1")
    approval_id = request(database, settings, paid, 3_000)
    wait_until(lambda: paused_at_gate(checkpoints, approval_id), message="graph paused at gate")
    assert stripe.calls == 0 and refunds(database) == []

    approve(database, approval_id)
    wait_until(settled(database, approval_id, ApprovalStatus.EXECUTED), message="refund executed")

    [refund] = refunds(database)
    assert (refund.approval_id, refund.amount, refund.currency) == (approval_id, 3_000, "usd")
    assert [r["id"] for r in stripe.inner.list_refunds(charge=paid.charge)] == [
        refund.stripe_refund_id
    ]
    assert stripe.calls == 1
    done = approval(database, approval_id)
    assert done.result is not None and done.result["refund_id"] == refund.stripe_refund_id
    with database.transaction() as s:
        call = s.scalars(select(ExternalCall)).one()
        assert (call.idempotency_key, call.status) == (f"refund:{approval_id}", "succeeded")
        payment = s.get(Payment, paid.payment_id)
        assert payment is not None and payment.amount_refunded == 3_000
    notices = [t.payload for t in tasks(database, "notification.send")]
    issued = [n for n in notices if n["template"] == "refund_issued"]
    assert [n["key"] for n in issued] == [f"refund_issued:{refund.stripe_refund_id}"]
    assert issued[0]["customer_id"] == paid.customer_id


def test_second_approval_and_duplicate_resumes_make_one_refund(
    database: Database,
    settings: Settings,
    paid: PaidCustomer,
    stripe: InstrumentedGateway,
    start_worker: Callable[[str], Worker],
) -> None:
    start_worker("w1")
    approval_id = request(database, settings, paid, 2_000)
    approve(database, approval_id)
    with pytest.raises(Conflict):
        approve(database, approval_id, "carol")
    with database.transaction() as s:  # the same message delivered again, without its dedupe key
        submit(s, "refund.resume", {"approval_id": approval_id})
        submit(s, "refund.resume", {"approval_id": approval_id})
    wait_until(settled(database, approval_id, ApprovalStatus.EXECUTED), message="refund executed")
    assert len(refunds(database)) == 1
    assert len(stripe.inner.list_refunds(charge=paid.charge)) == 1
    assert stripe.calls == 1


def test_two_workers_resuming_at_once_make_one_refund(
    database: Database,
    settings: Settings,
    paid: PaidCustomer,
    stripe: InstrumentedGateway,
    checkpoints: CheckpointerFactory,
    start_worker: Callable[[str], Worker],
) -> None:
    inside_stripe, release = threading.Event(), threading.Event()

    def hold_first_call(call: int) -> None:
        if call == 1:
            inside_stripe.set()
            release.wait(20)

    stripe.before_call = hold_first_call
    start_worker("w1")
    start_worker("w2")
    approval_id = request(database, settings, paid, 2_000)
    wait_until(lambda: paused_at_gate(checkpoints, approval_id), message="graph paused at gate")
    approve(database, approval_id)
    with database.transaction() as s:
        submit(s, "refund.resume", {"approval_id": approval_id})
    wait_until(inside_stripe.is_set, message="one worker inside the Stripe call")
    wait_until(
        lambda: any(
            "another worker" in (t.last_error or "") for t in tasks(database, "refund.resume")
        ),
        message="the other worker turned away by the ledger claim",
    )
    release.set()
    wait_until(settled(database, approval_id, ApprovalStatus.EXECUTED), message="refund executed")
    assert len(refunds(database)) == 1
    assert len(stripe.inner.list_refunds(charge=paid.charge)) == 1
    assert stripe.calls == 1


def test_lost_stripe_answer_is_retried_with_same_key_and_refunds_once(
    database: Database,
    settings: Settings,
    paid: PaidCustomer,
    stripe: InstrumentedGateway,
    start_worker: Callable[[str], Worker],
) -> None:
    def lose_first_answer(call: int) -> None:
        if call == 1:
            raise StripeGatewayError("read timed out")

    stripe.after_call = lose_first_answer  # Stripe refunded, but we never heard back
    start_worker("w1")
    approval_id = request(database, settings, paid, 2_500)
    approve(database, approval_id)
    wait_until(settled(database, approval_id, ApprovalStatus.EXECUTED), message="refund executed")
    [refund] = refunds(database)
    assert [r["id"] for r in stripe.inner.list_refunds(charge=paid.charge)] == [
        refund.stripe_refund_id
    ]
    assert stripe.calls == 1  # the retry found the refund by its key instead of calling again
    [resume] = tasks(database, "refund.resume")
    assert resume.attempts == 2


def test_payment_refunded_meanwhile_fails_the_approval_without_a_refund(
    database: Database,
    settings: Settings,
    paid: PaidCustomer,
    stripe: InstrumentedGateway,
    checkpoints: CheckpointerFactory,
    start_worker: Callable[[str], Worker],
) -> None:
    start_worker("w1")
    approval_id = request(database, settings, paid, 5_000)
    wait_until(lambda: paused_at_gate(checkpoints, approval_id), message="graph paused at gate")
    with database.transaction() as s:  # a refund made in the Stripe dashboard, mirrored by webhook
        s.execute(
            update(Payment).where(Payment.id == paid.payment_id).values(amount_refunded=4_000)
        )
    approve(database, approval_id)
    wait_until(settled(database, approval_id, ApprovalStatus.FAILED), message="approval failed")
    failed = approval(database, approval_id)
    assert failed.error is not None and "no longer refundable" in failed.error
    assert stripe.calls == 0 and refunds(database) == []


def test_rejected_request_ends_the_graph_without_a_refund(
    database: Database,
    settings: Settings,
    paid: PaidCustomer,
    stripe: InstrumentedGateway,
    checkpoints: CheckpointerFactory,
    start_worker: Callable[[str], Worker],
) -> None:
    start_worker("w1")
    approval_id = request(database, settings, paid, 1_000)
    wait_until(lambda: paused_at_gate(checkpoints, approval_id), message="graph paused at gate")
    with database.transaction() as s:
        decide(s, approval_id, operator="bob", approve=False, note="no", submit=submit)
    wait_until(settled(database, approval_id, ApprovalStatus.REJECTED), message="resume done")
    assert not paused_at_gate(checkpoints, approval_id)
    assert stripe.calls == 0 and refunds(database) == []


def test_effects_rolled_back_after_the_graph_finished_are_redone_once(
    database: Database,
    settings: Settings,
    paid: PaidCustomer,
    stripe: InstrumentedGateway,
    checkpoints: CheckpointerFactory,
) -> None:
    approval_id = request(database, settings, paid, 1_500)
    run_refund_task(database, settings, stripe, checkpoints, "refund.start", approval_id)
    approve(database, approval_id)

    class LeaseLost(Exception):
        pass

    with pytest.raises(LeaseLost):  # the worker lost its lease: the graph ran, the commit did not
        run_refund_task(
            database, settings, stripe, checkpoints, "refund.resume", approval_id, LeaseLost
        )
    assert approval(database, approval_id).status == ApprovalStatus.APPROVED
    assert refunds(database) == []

    result = run_refund_task(database, settings, stripe, checkpoints, "refund.resume", approval_id)
    assert result["refund_id"] is not None
    assert approval(database, approval_id).status == ApprovalStatus.EXECUTED
    assert len(refunds(database)) == 1 and stripe.calls == 1


def run_refund_task(
    database: Database,
    settings: Settings,
    stripe: InstrumentedGateway,
    checkpoints: CheckpointerFactory,
    kind: str,
    approval_id: int,
    fail_with: type[Exception] | None = None,
) -> dict[str, Any]:
    """Run one refund task as the runtime does: in one unit of work, optionally rolled back."""
    with database.transaction() as session:

        def submit_here(kind: str, payload: dict[str, Any], **kw: Any) -> int | None:
            return submit(session, kind, payload, **kw)

        ctx = AgentContext(
            session=session,
            database=database,
            settings=settings,
            stripe=stripe,  # type: ignore[arg-type]
            mailer=None,  # type: ignore[arg-type]
            submit=submit_here,
            checkpointer_factory=checkpoints,
        )
        result = advance_refund(ctx, kind, {"approval_id": approval_id})
        if fail_with is not None:
            raise fail_with()
    return result
