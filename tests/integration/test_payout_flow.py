"""Payouts through a real worker, the approval gate and the sandbox's Connect transfers:
paid once, failures leave the journal alone and can be retried under the same key, and two
requests for one balance never pay it twice."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import select

from agents.approvals.service import decide
from agents.checkpoints import CheckpointerFactory, checkpointer_factory
from agents.ledger_journal import agent as ledger_agent
from agents.ledger_journal.balances import payable_balance
from agents.ledger_journal.check import check_ledger
from agents.payouts.payees import update_payee
from agents.payouts.service import cancel_payout, create_payout, retry_payout
from core.errors import Conflict, MonetaError, NotFound
from core.settings import Settings
from db.models import Approval, ExternalCall, JournalEntry, Payout
from db.session import Database
from orchestrator.outbox import submit
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from orchestrator.worker import Worker
from tests.support.payouts import payout, seed_owner_revenue, tasks_of
from tests.support.waiting import wait_until
from tools.stripe.sandbox import SandboxGateway

OWNER = "owner:researcher_001"


class CountingSandbox:
    """The sandbox, counting transfer calls."""

    label = "counting offline sandbox"

    def __init__(self, inner: SandboxGateway) -> None:
        self.inner = inner
        self.transfers = 0

    def create_transfer(self, **kwargs: Any) -> dict[str, Any]:
        self.transfers += 1
        return self.inner.create_transfer(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def stripe(settings: Settings) -> CountingSandbox:
    return CountingSandbox(SandboxGateway(settings.data_dir / "stripe-sandbox.db"))


@pytest.fixture
def checkpoints(settings: Settings) -> CheckpointerFactory:
    return checkpointer_factory(settings.effective_database_url)


@pytest.fixture
def worker(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    stripe: CountingSandbox,
    checkpoints: CheckpointerFactory,
) -> Iterator[Worker]:
    runtime = Runtime(
        settings,
        database,
        redis_client,
        transport,
        {"stripe": stripe, "checkpointer_factory": checkpoints},
    )
    running = Worker(
        runtime, ["ledger"], concurrency=1, batch=1, handlers={"ledger": ledger_agent.handle}
    )
    running.start()
    yield running
    running.stop()
    running.join(10)


def request(database: Database, settings: Settings, **kwargs: Any) -> Payout:
    with database.transaction() as session:
        return create_payout(
            session,
            requested_by="alice",
            submit=submit,
            settings=settings,
            **{"party": OWNER, **kwargs},
        )


def approve(database: Database, approval_id: int | None) -> None:
    assert approval_id is not None
    with database.transaction() as session:
        decide(session, approval_id, operator="bob", approve=True, note="ok", submit=submit)


def reached(database: Database, payout_id: int, status: str) -> Callable[[], bool]:
    def check() -> bool:
        done = all(t.status == "done" for t in tasks_of(database, "payout.resume"))
        return payout(database, payout_id).status == status and done

    return check


def journal_kinds(database: Database) -> list[str]:
    with database.transaction() as session:
        return list(session.scalars(select(JournalEntry.kind).order_by(JournalEntry.id)))


def test_approved_payout_transfers_once_and_posts_the_journal(
    database: Database, settings: Settings, stripe: CountingSandbox, worker: Worker
) -> None:
    settings.payout_fee_bps = 100
    seed_owner_revenue(database, settings, stripe_account="acct_owner1")
    stripe.inner.put("account", {"id": "acct_owner1", "object": "account"})
    created = request(database, settings)
    # 100 uses of 100 cents, 10% platform fee: 9,000 payable; 1% payout fee.
    assert (created.balance, created.reserve, created.amount) == (9_000, 0, 9_000)
    assert (created.fee, created.net, created.status) == (90, 8_910, "pending_approval")
    with database.transaction() as session:
        gate = session.get(Approval, created.approval_id)
        assert gate is not None and (gate.action, gate.amount) == ("payout", 8_910)
        assert "fee USD 0.90" in gate.reason and "net USD 89.10" in gate.reason
    wait_until(lambda: all(t.status == "done" for t in tasks_of(database, "payout.start")))
    assert stripe.transfers == 0 and journal_kinds(database) == ["usage"]

    approve(database, created.approval_id)
    wait_until(reached(database, created.id, "paid"), message="payout paid")

    paid = payout(database, created.id)
    assert paid.method == "transfer" and paid.transfer_id is not None
    transfer = stripe.inner.get("transfer", paid.transfer_id)
    assert transfer is not None
    assert (transfer["amount"], transfer["destination"]) == (8_910, "acct_owner1")
    assert stripe.transfers == 1
    assert journal_kinds(database) == ["usage", "payout"]
    with database.transaction() as session:
        assert payable_balance(session, "owner_payable", OWNER, "usd") == 0
        assert check_ledger(session).ok
        approval = session.get(Approval, created.approval_id)
        assert approval is not None and approval.status == "executed"
        call = session.scalars(select(ExternalCall)).one()
        assert (call.idempotency_key, call.status) == (f"payout:{created.id}", "succeeded")
    # The balance is paid: asking again for it is refused, nothing is in flight.
    with pytest.raises(Conflict) as refused:
        request(database, settings)
    assert refused.value.code == "nothing_payable"


def test_failed_transfer_leaves_journal_alone_tells_operators_and_retries_with_same_key(
    database: Database, settings: Settings, stripe: CountingSandbox, worker: Worker
) -> None:
    seed_owner_revenue(database, settings, stripe_account="acct_not_onboarded")
    created = request(database, settings)
    approve(database, created.approval_id)
    wait_until(reached(database, created.id, "failed"), message="payout failed")

    failed = payout(database, created.id)
    assert "invalid_destination" in (failed.error or "") or "No such destination" in (
        failed.error or ""
    )
    assert journal_kinds(database) == ["usage"]
    alerts = [
        t.payload
        for t in tasks_of(database, "notification.send")
        if t.payload["template"] == "operator_alert"
    ]
    assert [a["key"] for a in alerts] == [f"payout_failed:{created.id}:0"]
    with pytest.raises(Conflict) as refused:  # the balance is still held by the failed payout
        request(database, settings)
    assert refused.value.code == "payout_in_flight"

    stripe.inner.put("account", {"id": "acct_not_onboarded", "object": "account"})
    with database.transaction() as session:
        retry_payout(session, created.id, operator="bob", submit=submit)
    wait_until(reached(database, created.id, "paid"), message="payout paid on retry")
    assert journal_kinds(database) == ["usage", "payout"]
    assert stripe.transfers == 2
    with database.transaction() as session:
        call = session.scalars(select(ExternalCall)).one()
        assert (call.idempotency_key, call.attempts) == (f"payout:{created.id}", 2)
        assert check_ledger(session).ok


def test_owner_without_connect_account_gets_a_recorded_manual_payout(
    database: Database, settings: Settings, stripe: CountingSandbox, worker: Worker
) -> None:
    process_id = seed_owner_revenue(database, settings)
    created = request(database, settings, party=None, process_id=process_id, amount=5_000)
    assert (created.amount, created.net, created.process_id) == (5_000, 5_000, process_id)
    approve(database, created.approval_id)
    wait_until(reached(database, created.id, "paid"), message="manual payout recorded")
    assert payout(database, created.id).method == "manual" and stripe.transfers == 0
    with database.transaction() as session:
        assert payable_balance(session, "owner_payable", OWNER, "usd") == 4_000


def test_rejected_payout_frees_the_balance_for_a_new_request(
    database: Database, settings: Settings, worker: Worker
) -> None:
    seed_owner_revenue(database, settings)
    created = request(database, settings)
    assert created.approval_id is not None
    with database.transaction() as session:
        decide(
            session, created.approval_id, operator="bob", approve=False, note="no", submit=submit
        )
    wait_until(reached(database, created.id, "rejected"), message="payout rejected")
    assert payout(database, created.id).open_key is None
    assert request(database, settings).status == "pending_approval"


def test_two_requests_for_the_same_balance_never_pay_it_twice(
    database: Database, settings: Settings
) -> None:
    seed_owner_revenue(database, settings)
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def ask() -> None:
        start.wait()
        try:
            outcomes.append(request(database, settings).id)
        except MonetaError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == 2
    assert [o for o in outcomes if isinstance(o, str)] == ["payout_in_flight"]
    with database.transaction() as session:
        assert len(session.scalars(select(Payout)).all()) == 1


def test_bad_payout_requests_are_refused_with_their_codes(
    database: Database, settings: Settings
) -> None:
    seed_owner_revenue(database, settings)
    recent = seed_owner_revenue(database, settings, owner="newcomer", days_ago=0)
    with pytest.raises(NotFound):
        request(database, settings, party="owner:nobody")
    with pytest.raises(Conflict) as too_much:
        request(database, settings, amount=9_001)
    assert too_much.value.code == "exceeds_balance"
    with pytest.raises(Conflict) as small:
        request(database, settings, amount=999)
    assert small.value.code == "below_minimum"
    with pytest.raises(Conflict) as reserved:  # all of it earned inside the refund window
        request(database, settings, party=None, process_id=recent)
    assert reserved.value.code == "nothing_payable"
    for status, code in (("on_hold", "payee_on_hold"), ("retired", "payee_retired")):
        with database.transaction() as session:
            update_payee(session, OWNER, actor="test", status=status)
        with pytest.raises(Conflict) as refused:
            request(database, settings)
        assert refused.value.code == code
    with database.transaction() as session, pytest.raises(NotFound):
        retry_payout(session, 999, operator="bob", submit=submit)
    with database.transaction() as session, pytest.raises(NotFound):
        cancel_payout(session, 999, operator="bob", reason="x")
