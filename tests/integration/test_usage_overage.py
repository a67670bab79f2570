"""Overage at period end becomes exactly one Stripe invoice item per customer, metric, period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import stripe
from sqlalchemy import select

from agents.metering.ingest import record_usage
from agents.metering.meters import load_meters
from core.clock import frozen
from core.settings import Settings
from db.models import ExternalCall, Task, UsageOverage
from db.session import Database
from scheduler.jobs import SCHEDULED_TASKS, submit_for_slot
from tests.support.localstripe import TEST_API_KEY
from tests.support.metering import grant_limit, make_customer, run_metering_task, run_task
from tools.stripe.client import StripeClientGateway
from tools.stripe.gateway import StripeGatewayError
from tools.stripe.sandbox import SandboxGateway

FEBRUARY = datetime(2026, 2, 14, 9, 0, tzinfo=UTC)
CLOSING = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)


def _over_the_limit(database: Database, stripe_id: str) -> int:
    """A customer with 1,000 API calls included who made 3,500 in February."""
    customer = make_customer(database, stripe_id=stripe_id)
    grant_limit(database, customer, "api_calls", 1000)
    with frozen(FEBRUARY), database.transaction() as s:
        record_usage(
            s,
            load_meters(),
            [
                {
                    "customer": stripe_id,
                    "metric": "api_calls",
                    "quantity": 3500,
                    "idempotency_key": "x",
                }
            ],
            caller_customer_id=None,
        )
    return customer


def _close(database: Database, settings: Settings, slot: str) -> list[int]:
    """Run the close of February; the billing tasks it queued."""
    run_metering_task(
        database, settings, "usage.close_period", {"period": "2026-02"}, CLOSING, dedupe_key=slot
    )
    with database.transaction() as s:
        return list(
            s.scalars(
                select(Task.id).where(Task.kind == "usage.bill_overage", Task.status == "pending")
            )
        )


def _close_and_bill(
    database: Database, settings: Settings, tools: dict[str, Any], slot: str
) -> None:
    bills = _close(database, settings, slot)
    with frozen(CLOSING):
        for task_id in bills:
            run_task(database, settings, task_id, tools)


class LostAnswerOnce:
    """Stripe makes the item, but the first answer never arrives (a timeout after the fact)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def create_invoice_item(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        item = self.inner.create_invoice_item(**params)
        if self.calls == 1:
            raise StripeGatewayError("read timed out")
        return item  # type: ignore[no-any-return]


def test_overage_is_billed_once_in_the_sandbox_even_when_run_again(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    flaky = LostAnswerOnce(sandbox)
    customer = _over_the_limit(database, "cus_overage_sandbox")
    [bill] = _close(database, settings, "slot-1")
    with frozen(CLOSING):
        run_task(database, settings, bill, {"stripe": flaky}, expect="retry")
    with frozen(CLOSING + timedelta(hours=1)):  # past the retry's backoff
        assert run_task(database, settings, bill, {"stripe": flaky})["status"] == "billed"  # type: ignore[index]
    _close_and_bill(database, settings, {"stripe": flaky}, "slot-2")  # the next day's close

    with database.transaction() as s:
        overage = s.scalars(select(UsageOverage)).one()
        calls = s.scalars(select(ExternalCall)).all()
    assert (overage.customer_id, overage.metric, overage.overage, overage.amount) == (
        customer,
        "api_calls",
        2500,
        12,  # 2,500 calls at $0.05 per 1,000 = 12.5 cents, half-even to 12
    )
    assert overage.status == "billed"
    assert [(c.idempotency_key, c.status) for c in calls] == [
        (f"usage_overage:{customer}:api_calls:2026-02", "succeeded")
    ]
    item = sandbox.get("invoiceitem", overage.stripe_invoice_item_id or "")
    assert item is not None and (item["amount"], item["customer"]) == (12, "cus_overage_sandbox")
    assert flaky.calls == 2  # the retry replayed the first item under the same key


def test_overage_becomes_one_invoice_item_on_localstripe(
    settings: Settings, database: Database, localstripe: str
) -> None:
    setup = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": localstripe})
    stripe_customer = setup.v1.customers.create({"email": "over@example.com"}).id
    _over_the_limit(database, stripe_customer)
    gateway = StripeClientGateway(TEST_API_KEY, api_base=localstripe)
    _close_and_bill(database, settings, {"stripe": gateway}, "slot-1")
    _close_and_bill(database, settings, {"stripe": gateway}, "slot-2")

    items = setup.v1.invoice_items.list({"customer": stripe_customer}).data
    assert [(i.amount, i.currency) for i in items] == [(12, "usd")]
    assert items[0].to_dict()["metadata"]["metric"] == "api_calls"
    with database.transaction() as s:
        assert s.scalars(select(UsageOverage.stripe_invoice_item_id)).one() == items[0].id


def test_usage_within_the_limit_bills_nothing(settings: Settings, database: Database) -> None:
    customer = make_customer(database)
    grant_limit(database, customer, "api_calls", 10_000)
    with frozen(FEBRUARY), database.transaction() as s:
        record_usage(
            s,
            load_meters(),
            [
                {
                    "customer": str(customer),
                    "metric": "api_calls",
                    "quantity": 9999,
                    "idempotency_key": "y",
                }
            ],
            caller_customer_id=None,
        )
    result = run_metering_task(
        database, settings, "usage.close_period", {"period": "2026-02"}, CLOSING
    )
    assert result == {"period": "2026-02", "overages": 0}


def test_two_schedulers_firing_the_close_slot_queue_one_metering_task(
    settings: Settings, database: Database
) -> None:
    job = next(task for task in SCHEDULED_TASKS if task.name == "usage_close_period")
    first = submit_for_slot(database, job, CLOSING, max_attempts=3)
    second = submit_for_slot(database, job, CLOSING, max_attempts=3)
    assert first is not None and second is None
    with database.transaction() as s:
        task = s.get(Task, first)
        assert task is not None
        assert (task.agent, task.kind, task.payload) == (
            "metering",
            "usage.close_period",
            {"period": "2026-02"},
        )
