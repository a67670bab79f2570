"""Subscription changes through the billing agent against localstripe (Plans, legacy shapes):
upgrade with proration, cancel at period end, resume, cancel now -> a pending refund approval."""

from __future__ import annotations

import pytest
import stripe
from sqlalchemy import select

from agents.billing import graph as billing
from agents.catalog.loader import load_catalog
from agents.checkpoints import checkpointer_factory
from agents.subscriptions.planning import ChangeRequest
from core.clock import from_timestamp, utcnow
from core.settings import Settings
from db.models import Approval, ChangeStatus, Refund, SubscriptionChange
from db.session import Database
from tests.support.localstripe import TEST_API_KEY
from tests.support.subscriptions import (
    Subscribed,
    mirrored_subscription,
    reload_change,
    request,
    seed_subscription,
    seed_synced_prices,
)
from tests.support.task_running import AgentTasks
from tools.stripe.client import StripeClientGateway

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
CATALOG = load_catalog()


class Scene:
    """A customer with a card, Starter and Pro plans, and a paid Starter subscription."""

    def __init__(self, url: str) -> None:
        self.stripe = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": url})
        v1 = self.stripe.v1
        customer = v1.customers.create({"email": "lisa@example.com"})
        card = v1.payment_methods.create({"type": "card", "card": CARD})  # type: ignore[arg-type]
        v1.payment_methods.attach(card.id, {"customer": customer.id})
        v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": card.id}})
        self.customer = customer.id
        self.plans = {
            key: v1.plans.create(
                {"amount": amount, "currency": "usd", "interval": "month", "product": {"name": key}}
            ).id
            for key, amount in (("starter_monthly", 1_900), ("pro_monthly", 9_900))
        }
        sub = v1.subscriptions.create(
            {"customer": customer.id, "items": [{"plan": self.plans["starter_monthly"]}]}  # type: ignore[typeddict-item]
        ).to_dict()
        self.subscription = sub["id"]
        self.period = (
            from_timestamp(sub["current_period_start"]),
            from_timestamp(sub["current_period_end"]),
        )
        invoice = v1.invoices.retrieve(sub["latest_invoice"]).to_dict()
        self.charge = (
            invoice["charge"] if isinstance(invoice["charge"], str) else invoice["charge"]["id"]
        )

    def subscription_now(self) -> dict[str, object]:
        return self.stripe.v1.subscriptions.retrieve(self.subscription).to_dict()


@pytest.fixture
def scene(localstripe: str) -> Scene:
    return Scene(localstripe)


@pytest.fixture
def subscribed(database: Database, scene: Scene) -> Subscribed:
    seed_synced_prices(database, scene.plans)
    return seed_subscription(
        database,
        stripe_customer_id=scene.customer,
        stripe_subscription_id=scene.subscription,
        stripe_price_id=scene.plans["starter_monthly"],
        plan=scene.plans["starter_monthly"],
        unit_amount=1_900,
        period=scene.period,
        paid_charge=scene.charge,
    )


@pytest.fixture
def agents(database: Database, settings: Settings, localstripe: str) -> AgentTasks:
    gateway = StripeClientGateway(TEST_API_KEY, api_base=localstripe, max_retries=0, timeout=5.0)
    tools = {
        "stripe": gateway,
        "checkpointer_factory": checkpointer_factory(settings.effective_database_url),
    }
    return AgentTasks(database, settings, tools, {"billing": billing.handle})


def change(
    database: Database,
    settings: Settings,
    subscribed: Subscribed,
    wanted: ChangeRequest,
    key: str,
) -> SubscriptionChange:
    return request(database, settings, subscribed.customer_id, wanted, at=utcnow(), key=key)


def test_upgrade_with_proration_moves_the_subscription_to_pro(
    database: Database, settings: Settings, scene: Scene, subscribed: Subscribed, agents: AgentTasks
) -> None:
    upgrade = change(database, settings, subscribed, ChangeRequest("plan", "pro_monthly", 2), "u1")
    agents.drain()

    assert upgrade.action == "upgrade"
    assert reload_change(database, upgrade.id).status == ChangeStatus.APPLIED
    item = scene.subscription_now()["items"]["data"][0]  # type: ignore[index]
    assert (item["plan"]["id"], item["quantity"]) == (scene.plans["pro_monthly"], 2)
    prorations = scene.stripe.v1.invoice_items.list({"customer": scene.customer}).data
    assert any(entry.proration for entry in prorations)
    sub = mirrored_subscription(database)
    assert (sub.stripe_price_id, sub.quantity, sub.unit_amount) == (
        scene.plans["pro_monthly"],
        2,
        9_900,
    )


def test_cancel_at_period_end_then_resume(
    database: Database, settings: Settings, scene: Scene, subscribed: Subscribed, agents: AgentTasks
) -> None:
    change(database, settings, subscribed, ChangeRequest("cancel"), "c1")
    agents.drain()
    assert scene.subscription_now()["cancel_at_period_end"] is True
    assert mirrored_subscription(database).cancel_at_period_end is True

    resume = change(database, settings, subscribed, ChangeRequest("resume"), "r1")
    agents.drain()
    assert reload_change(database, resume.id).status == ChangeStatus.APPLIED
    assert scene.subscription_now()["cancel_at_period_end"] is False
    assert mirrored_subscription(database).cancel_at_period_end is False


def test_cancel_now_ends_the_subscription_and_only_requests_the_refund(
    database: Database, settings: Settings, scene: Scene, subscribed: Subscribed, agents: AgentTasks
) -> None:
    cancel = change(
        database, settings, subscribed, ChangeRequest("cancel", at_period_end=False), "n1"
    )
    agents.drain()

    done = reload_change(database, cancel.id)
    assert done.status == ChangeStatus.AWAITING_APPROVAL
    assert 0 < done.refund_amount <= 1_900
    assert scene.subscription_now()["status"] == "canceled"
    assert mirrored_subscription(database).status == "canceled"
    with database.transaction() as session:
        approval = session.get(Approval, done.approval_id)
        assert approval is not None
        assert (approval.status, approval.amount) == ("pending", done.refund_amount)
        assert session.scalars(select(Refund)).all() == []
    assert scene.stripe.v1.refunds.list({"charge": scene.charge}).data == []
