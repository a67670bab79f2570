"""Subscription changes through the billing agent against the offline sandbox: the preview's
numbers are what Stripe is asked for, each change is called once, refunds wait at the gate."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agents.billing import graph as billing
from agents.catalog.loader import load_catalog
from agents.checkpoints import checkpointer_factory
from agents.subscriptions.planning import ChangeRequest
from agents.subscriptions.service import APPLY_LEAD, subscription_view
from core.clock import frozen
from core.settings import Settings
from db.models import (
    Approval,
    ChangeStatus,
    ExternalCall,
    Refund,
    SubscriptionChange,
    Task,
)
from db.session import Database
from tests.support.subscriptions import (
    Subscribed,
    mirrored_subscription,
    reload_change,
    request,
    sandbox_price,
    seed_sandbox_subscription,
    seed_subscription,
    seed_synced_prices,
)
from tests.support.task_running import AgentTasks
from tools.stripe.sandbox import SandboxGateway

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)
TENTH = datetime(2026, 3, 11, tzinfo=UTC)  # 21 of 31 days left
STRIPE_IDS = {"starter_monthly": "price_starter_m", "pro_monthly": "price_pro_m"}
AMOUNTS = {"price_starter_m": 1_900, "price_pro_m": 9_900}
CATALOG = load_catalog()


@pytest.fixture
def sandbox(settings: Settings) -> SandboxGateway:
    gateway = SandboxGateway(settings.data_dir / "stripe-sandbox.db")
    for price_id, amount in AMOUNTS.items():
        gateway.put("price", sandbox_price(price_id, amount))
    return gateway


@pytest.fixture
def agents(database: Database, settings: Settings, sandbox: SandboxGateway) -> AgentTasks:
    seed_synced_prices(database, STRIPE_IDS)
    tools = {
        "stripe": sandbox,
        "checkpointer_factory": checkpointer_factory(settings.effective_database_url),
    }
    return AgentTasks(database, settings, tools, {"billing": billing.handle})


def subscribe(
    database: Database,
    sandbox: SandboxGateway,
    price_id: str,
    period: tuple[datetime, datetime] = (MARCH, APRIL),
    *,
    charge: str | None = None,
) -> Subscribed:
    subscribed = seed_subscription(
        database,
        stripe_customer_id="cus_sub_1",
        stripe_subscription_id="sub_1",
        stripe_price_id=price_id,
        plan=price_id,
        unit_amount=AMOUNTS[price_id],
        period=period,
        paid_charge=charge,
    )
    seed_sandbox_subscription(
        sandbox, subscribed, sandbox_price(price_id, AMOUNTS[price_id]), period
    )
    if charge is not None:
        sandbox.put(
            "charge",
            {
                "id": charge,
                "object": "charge",
                "amount": AMOUNTS[price_id],
                "amount_refunded": 0,
                "currency": "usd",
                "customer": "cus_sub_1",
                "paid": True,
                "refunded": False,
                "status": "succeeded",
            },
        )
    return subscribed


def ask(
    database: Database,
    settings: Settings,
    customer_id: int,
    change: ChangeRequest,
    at: datetime = TENTH,
    key: str = "k1",
) -> SubscriptionChange:
    return request(database, settings, customer_id, change, at=at, key=key)


def invoice_items(sandbox: SandboxGateway) -> list[dict[str, Any]]:
    with sqlite3.connect(sandbox._path) as db:
        rows = db.execute("SELECT body FROM objects WHERE resource = 'invoiceitem' ORDER BY seq")
        return [json.loads(body) for (body,) in rows]


def test_upgrade_bills_the_previewed_proration_once(
    database: Database, settings: Settings, sandbox: SandboxGateway, agents: AgentTasks
) -> None:
    subscribed = subscribe(database, sandbox, "price_starter_m")
    change = ask(database, settings, subscribed.customer_id, ChangeRequest("plan", "pro_monthly"))
    again = ask(database, settings, subscribed.customer_id, ChangeRequest("plan", "pro_monthly"))

    assert again.id == change.id and change.action == "upgrade"
    assert [line["amount"] for line in change.preview["lines"]] == [-1_287, 6_706]
    assert change.preview["next_invoice_amount"] == 15_319
    agents.drain()
    agents.drain()

    assert reload_change(database, change.id).status == ChangeStatus.APPLIED
    items = invoice_items(sandbox)
    assert [item["amount"] for item in items] == [-1_287, 6_706]  # Stripe's numbers = preview
    assert {item["period"]["start"] for item in items} == {change.proration_date}
    sub = mirrored_subscription(database)
    assert (sub.stripe_price_id, sub.unit_amount, sub.status) == ("price_pro_m", 9_900, "active")
    with database.transaction() as session:
        calls = session.scalars(select(ExternalCall)).all()
        assert [(c.idempotency_key, c.status) for c in calls] == [
            (f"subscription-change:{change.id}", "succeeded")
        ]
        assert session.scalars(select(Task).where(Task.kind == "subscription.change")).all()


def test_downgrade_is_applied_just_before_the_period_end_without_credit(
    database: Database, settings: Settings, sandbox: SandboxGateway, agents: AgentTasks
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    period = (now - timedelta(days=10), now + timedelta(days=21))
    subscribed = subscribe(database, sandbox, "price_pro_m", period)
    change = ask(
        database, settings, subscribed.customer_id, ChangeRequest("plan", "starter_monthly"), now
    )
    assert (change.action, change.effective_at) == ("downgrade", period[1])
    with database.transaction() as session:
        task = session.scalars(select(Task).where(Task.kind == "subscription.change")).one()
        assert task.available_at == period[1] - APPLY_LEAD
        view = subscription_view(session, CATALOG, subscribed.customer_id)
    assert view["price"] == "pro_monthly"
    assert view["pending_change"]["to_price"] == "starter_monthly"

    with frozen(period[1] - APPLY_LEAD + timedelta(seconds=1)):
        agents.drain()

    assert reload_change(database, change.id).status == ChangeStatus.APPLIED
    assert invoice_items(sandbox) == []  # proration_behavior=none: no credit to game
    assert mirrored_subscription(database).stripe_price_id == "price_starter_m"


def test_cancel_now_opens_a_refund_approval_and_refunds_nothing(
    database: Database, settings: Settings, sandbox: SandboxGateway, agents: AgentTasks
) -> None:
    subscribed = subscribe(database, sandbox, "price_pro_m", charge="ch_sub_1")
    change = ask(
        database,
        settings,
        subscribed.customer_id,
        ChangeRequest("cancel", at_period_end=False),
    )
    assert change.refund_amount == 6_706  # 9,900 x 21/31
    agents.drain()

    done = reload_change(database, change.id)
    assert done.status == ChangeStatus.AWAITING_APPROVAL and done.approval_id is not None
    with database.transaction() as session:
        approval = session.get(Approval, done.approval_id)
        assert approval is not None
        assert (approval.action, approval.status, approval.amount) == ("refund", "pending", 6_706)
        assert approval.subject_id == str(subscribed.payment_id)
        assert session.scalars(select(Refund)).all() == []
    assert mirrored_subscription(database).status == "canceled"
    assert sandbox.get("charge", "ch_sub_1")["amount_refunded"] == 0  # type: ignore[index]


def test_cancel_at_period_end_then_resume(
    database: Database, settings: Settings, sandbox: SandboxGateway, agents: AgentTasks
) -> None:
    subscribed = subscribe(database, sandbox, "price_pro_m")
    cancel = ask(database, settings, subscribed.customer_id, ChangeRequest("cancel"))
    agents.drain()
    assert mirrored_subscription(database).cancel_at_period_end is True
    assert cancel.preview["next_invoice_date"] is None

    resume = ask(database, settings, subscribed.customer_id, ChangeRequest("resume"), key="k2")
    agents.drain()
    assert resume.action == "resume"
    assert reload_change(database, resume.id).status == ChangeStatus.APPLIED
    assert mirrored_subscription(database).cancel_at_period_end is False
    assert sandbox.get("subscription", "sub_1")["cancel_at_period_end"] is False  # type: ignore[index]


def test_pause_then_resume_collection(
    database: Database, settings: Settings, sandbox: SandboxGateway, agents: AgentTasks
) -> None:
    subscribed = subscribe(database, sandbox, "price_pro_m")
    ask(database, settings, subscribed.customer_id, ChangeRequest("pause"))
    agents.drain()
    assert sandbox.get("subscription", "sub_1")["pause_collection"] == {"behavior": "void"}  # type: ignore[index]
    with database.transaction() as session:
        assert subscription_view(session, CATALOG, subscribed.customer_id)["collection_paused"]

    unpause = ask(database, settings, subscribed.customer_id, ChangeRequest("resume"), key="k2")
    agents.drain()
    assert unpause.action == "unpause"
    assert sandbox.get("subscription", "sub_1")["pause_collection"] is None  # type: ignore[index]
    with database.transaction() as session:
        assert not subscription_view(session, CATALOG, subscribed.customer_id)["collection_paused"]


def test_a_new_request_supersedes_a_waiting_downgrade(
    database: Database, settings: Settings, sandbox: SandboxGateway, agents: AgentTasks
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    period = (now - timedelta(days=10), now + timedelta(days=21))
    subscribed = subscribe(database, sandbox, "price_pro_m", period)
    downgrade = ask(
        database, settings, subscribed.customer_id, ChangeRequest("plan", "starter_monthly"), now
    )
    cancel = ask(database, settings, subscribed.customer_id, ChangeRequest("cancel"), now, "k2")
    assert reload_change(database, downgrade.id).status == ChangeStatus.SUPERSEDED
    with frozen(period[1] - APPLY_LEAD):
        ran = agents.drain()  # the superseded downgrade's task finds nothing to do

    assert [task.result for task in ran] == [
        {"change_id": downgrade.id, "status": ChangeStatus.SUPERSEDED},
        {"change_id": cancel.id, "status": ChangeStatus.APPLIED, "approval_id": None},
    ]
    assert mirrored_subscription(database).stripe_price_id == "price_pro_m"
    assert mirrored_subscription(database).cancel_at_period_end is True


def test_change_stripe_refuses_fails_with_the_reason(
    database: Database, settings: Settings, agents: AgentTasks
) -> None:
    subscribed = seed_subscription(
        database,
        stripe_customer_id="cus_x",
        stripe_subscription_id="sub_unknown_to_stripe",
        stripe_price_id="price_starter_m",
        plan="starter_monthly",
        unit_amount=1_900,
        period=(MARCH, APRIL),
    )
    change = ask(database, settings, subscribed.customer_id, ChangeRequest("plan", "pro_monthly"))
    agents.drain()

    failed = reload_change(database, change.id)
    assert failed.status == ChangeStatus.FAILED
    assert "No such subscription" in (failed.failure_reason or "")
