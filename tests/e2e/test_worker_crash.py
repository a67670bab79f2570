"""A worker process killed with SIGKILL mid-task: another worker redoes it, effects once."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.settings import Settings
from db.models import Customer, Invoice, Payment, Task, TaskStatus
from db.repositories.stripe_inbox import add_event
from db.session import Database
from orchestrator.outbox import submit
from tests.conftest import PG_URL
from tests.support.processes import settings_env, start_moneta, stop
from tests.support.stripe_events import event, fixture
from tests.support.waiting import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not PG_URL, reason="holds a PostgreSQL table lock to stop a worker mid-task"
    ),
]


def _invoice_paid() -> dict[str, object]:
    invoice = fixture(
        "invoice",
        id="in_crash1",
        customer="cus_crash1",
        status="paid",
        amount_due=4200,
        amount_paid=4200,
        currency="usd",
        attempt_count=1,
        billing_reason="subscription_cycle",
        hosted_invoice_url="https://invoice.stripe.com/i/crash1",
        number="CRASH-1",
        parent={
            "type": "subscription_details",
            "subscription_details": {"subscription": "sub_crash1", "metadata": {}},
        },
        payments={
            "object": "list",
            "data": [
                {
                    "object": "invoice_payment",
                    "status": "paid",
                    "amount_paid": 4200,
                    "payment": {"type": "charge", "charge": "ch_crash1"},
                }
            ],
        },
    )
    return event("invoice.paid", invoice, created=1_790_000_000)


def _task(database: Database, task_id: int) -> Task:
    with database.transaction() as s:
        task = s.get(Task, task_id)
        assert task is not None
        return task


def test_worker_killed_mid_task_is_redone_by_another_worker_with_effects_once(
    settings: Settings, database: Database, transport, tmp_path: Path
) -> None:
    paid = _invoice_paid()
    with database.transaction() as s:
        add_event(s, paid, source="webhook")
        task_id = submit(
            s, "stripe.event", {"event_id": paid["id"]}, dedupe_key=f"stripe-event:{paid['id']}"
        )
    assert task_id is not None
    env = settings_env(settings)
    args = ["worker", "--agents", "billing", "--concurrency", "1"]

    blocker = database.engine.connect()
    hold = blocker.begin()
    blocker.execute(text("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"))
    first = start_moneta(args, env, tmp_path / "worker1.log")
    try:
        wait_until(
            lambda: _task(database, task_id).status == TaskStatus.RUNNING,
            timeout=60,
            message="the first worker to claim the task",
        )
        assert stop(first, signal.SIGKILL) == -signal.SIGKILL
    finally:
        # Never leave it running: a stray billing worker would take later tests' tasks.
        stop(first, signal.SIGKILL)
        hold.rollback()
        blocker.close()

    second = start_moneta(args, env, tmp_path / "worker2.log")
    try:
        wait_until(
            lambda: _task(database, task_id).status == TaskStatus.DONE,
            timeout=60,
            message="the second worker to redo the task",
        )
    finally:
        stop(second)

    task = _task(database, task_id)
    assert task.attempts == 2
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 1
        assert s.scalar(select(func.count()).select_from(Invoice)) == 1
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
        receipts = s.scalar(
            select(func.count()).select_from(Task).where(Task.kind == "notification.send")
        )
        assert receipts == 1


def test_sigterm_lets_the_worker_finish_the_task_in_hand_then_exit(
    settings: Settings, database: Database, transport, tmp_path: Path
) -> None:
    paid = _invoice_paid()
    with database.transaction() as s:
        add_event(s, paid, source="webhook")
        task_id = submit(s, "stripe.event", {"event_id": paid["id"]})
    assert task_id is not None
    blocker = database.engine.connect()
    hold = blocker.begin()
    blocker.execute(text("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"))
    worker = start_moneta(
        ["worker", "--agents", "billing", "--concurrency", "1"],
        settings_env(settings),
        tmp_path / "worker.log",
    )
    try:
        try:
            wait_until(
                lambda: _task(database, task_id).status == TaskStatus.RUNNING,
                timeout=60,
                message="the worker to claim the task",
            )
            worker.send_signal(signal.SIGTERM)
        finally:
            hold.rollback()
            blocker.close()
        code = stop(worker, signal.SIGTERM, timeout=60)
        assert code == 0, (tmp_path / "worker.log").read_text(errors="replace")[-4000:]
    finally:
        stop(worker, signal.SIGKILL)  # never left running for later tests
    task = _task(database, task_id)
    assert (task.status, task.attempts) == (TaskStatus.DONE, 1)
