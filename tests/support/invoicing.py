"""Invoices and dunning scenes: signed Stripe events into the real app, the offline sandbox as
Stripe, and the billing, dunning, provisioning and analytics agents run in-process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
import redis
import stripe
from fastapi.testclient import TestClient
from sqlalchemy import select

from agents.analytics import graph as analytics
from agents.billing import graph as billing
from agents.context import AgentHandler
from agents.dunning import graph as dunning
from agents.provisioning import graph as provisioning
from api.app import create_app
from core.clock import utcnow
from core.settings import Settings
from db.models import Task, TaskStatus
from db.session import Database
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.stripe_events import event, fixture, signed
from tests.support.task_running import AgentTasks
from tools.stripe.gateway import StripeGateway
from tools.stripe.sandbox import SandboxGateway

WEBHOOK_URL = "/webhooks/stripe"
HANDLERS: dict[str, AgentHandler] = {
    "billing": billing.handle,
    "dunning": dunning.handle,
    "provisioning": provisioning.handle,
    "analytics": analytics.handle,
}


class DueAgentTasks(AgentTasks):
    """AgentTasks that leave tasks due later (a grace check, a future step) for later."""

    def _pending(self) -> list[int]:
        with self.database.transaction() as session:
            return list(
                session.scalars(
                    select(Task.id)
                    .where(
                        Task.agent.in_(self.agents),
                        Task.status == TaskStatus.PENDING,
                        Task.available_at <= utcnow(),
                    )
                    .order_by(Task.id)
                )
            )


class InvoicingScene:
    """Deliver signed events through the app and run the due tasks they cause."""

    def __init__(
        self, client: TestClient, database: Database, settings: Settings, stripe: StripeGateway
    ) -> None:
        self.client = client
        self.database = database
        self.settings = settings
        self.stripe = stripe
        self.tasks = DueAgentTasks(database, settings, {"stripe": stripe, "mailer": None}, HANDLERS)

    def deliver(self, evt: dict[str, Any]) -> None:
        """POST `evt` signed as Stripe would, now (the clock may be frozen), then run tasks."""
        secret = self.settings.webhook_secrets[0]
        body, header = signed(evt, secret, timestamp=int(utcnow().timestamp()))
        response = self.client.post(
            WEBHOOK_URL,
            content=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        self.drain()

    def drain(self) -> None:
        """Run every due task of the scene's agents (and those they queue); all must succeed."""
        for task in self.tasks.drain(rounds=50):
            assert task.status == TaskStatus.DONE, (task.kind, task.last_error)

    def queued(self, kind: str) -> list[dict[str, Any]]:
        """Payloads of every task of `kind`, oldest first (e-mails are not sent here)."""
        with self.database.transaction() as session:
            return [
                dict(t.payload)
                for t in session.scalars(select(Task).where(Task.kind == kind).order_by(Task.id))
            ]


@contextmanager
def invoicing_scene(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    stripe: StripeGateway,
) -> Iterator[InvoicingScene]:
    """The real app over the test's database and Redis, with `stripe` as the agents' Stripe."""
    runtime = Runtime(settings, database, redis_client, transport, {"stripe": stripe})
    with TestClient(create_app(runtime)) as client:
        yield InvoicingScene(client, database, settings, stripe)


@pytest.fixture
def sandbox_scene(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    sandbox: SandboxGateway,
) -> Iterator[InvoicingScene]:
    """A scene over the offline sandbox the test module's `sandbox` fixture seeds."""
    with invoicing_scene(settings, database, redis_client, transport, sandbox) as scene:
        yield scene


def at(moment: datetime) -> int:
    return int(moment.timestamp())


def stripe_customer(customer_id: str, email: str) -> dict[str, Any]:
    return fixture("customer", id=customer_id, email=email, name="Ada Lovelace", deleted=None)


def stripe_subscription(
    subscription_id: str,
    customer_id: str,
    *,
    status: str,
    plan: str,
    amount: int,
    period: tuple[datetime, datetime],
    quantity: int = 1,
) -> dict[str, Any]:
    """An endive subscription of one item on a monthly price looked up as `plan`."""
    item = fixture(
        "subscription_item",
        id=f"si_{subscription_id}",
        quantity=quantity,
        current_period_start=at(period[0]),
        current_period_end=at(period[1]),
        price=fixture(
            "price",
            id=f"price_{plan}",
            lookup_key=plan,
            unit_amount=amount,
            currency="usd",
            recurring={"interval": "month", "interval_count": 1},
        ),
    )
    return fixture(
        "subscription",
        id=subscription_id,
        customer=customer_id,
        status=status,
        currency="usd",
        items={"object": "list", "data": [item], "has_more": False},
        cancel_at_period_end=False,
        canceled_at=None,
        ended_at=None,
        trial_end=None,
        discounts=[],
        discount=None,
    )


def stripe_invoice(
    invoice_id: str,
    customer_id: str,
    subscription_id: str | None,
    *,
    status: str,
    lines: list[dict[str, Any]],
    has_more: bool = False,
    attempt_count: int = 1,
    paid_at: datetime | None = None,
) -> dict[str, Any]:
    """An endive invoice whose amounts add up from `lines` (discounts and taxes included)."""
    subtotal = sum(line["amount"] for line in lines)
    discount = sum(d["amount"] for line in lines for d in line.get("discount_amounts") or [])
    tax = sum(t["amount"] for line in lines for t in line.get("taxes") or [])
    total = subtotal - discount + tax
    paid = status == "paid"
    parent = (
        {"type": "subscription_details", "subscription_details": {"subscription": subscription_id}}
        if subscription_id
        else None
    )
    return fixture(
        "invoice",
        id=invoice_id,
        customer=customer_id,
        customer_email="ada@example.com",
        status=status,
        number=f"N-{invoice_id}",
        currency="usd",
        billing_reason="subscription_cycle",
        parent=parent,
        subtotal=subtotal,
        total=total,
        total_discount_amounts=[{"amount": discount, "discount": "di_1"}] if discount else [],
        total_taxes=[{"amount": tax}] if tax else [],
        amount_due=total,
        amount_paid=total if paid else 0,
        amount_remaining=0 if paid else total,
        attempt_count=attempt_count,
        hosted_invoice_url=f"https://invoice.stripe.com/i/{invoice_id}",
        lines={"object": "list", "data": lines, "has_more": has_more},
        status_transitions={
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": at(paid_at) if paid_at else None,
            "voided_at": None,
        },
        payments={"object": "list", "data": [], "has_more": False},
    )


def invoice_line(
    line_id: str,
    amount: int,
    *,
    description: str,
    price: str | None = None,
    discount: int = 0,
    tax: int = 0,
    proration: bool = False,
    quantity: int = 1,
) -> dict[str, Any]:
    """An endive invoice line (parent: a subscription item)."""
    return fixture(
        "line_item",
        id=line_id,
        amount=amount,
        currency="usd",
        description=description,
        quantity=quantity,
        period={"start": 1_793_000_000, "end": 1_795_600_000},
        discount_amounts=[{"amount": discount, "discount": "di_1"}] if discount else [],
        taxes=[{"amount": tax, "tax_behavior": "exclusive", "type": "tax_rate_details"}]
        if tax
        else [],
        pricing={"type": "price_details", "price_details": {"price": price, "product": "prod_1"}},
        parent={
            "type": "subscription_item_details",
            "subscription_item_details": {
                "subscription": "sub_ada",
                "subscription_item": "si_ada",
                "proration": proration,
                "invoice_item": None,
            },
        },
    )


def invoice_event(kind: str, invoice: dict[str, Any], created: datetime) -> dict[str, Any]:
    return event(kind, invoice, created=at(created))


def localstripe_paying_customer(client: stripe.StripeClient, email: str) -> str:
    """A localstripe customer with a default card (its invoices are paid at once); its id."""
    customer = client.v1.customers.create({"email": email})
    card = client.v1.payment_methods.create(
        {
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    client.v1.payment_methods.attach(card.id, {"customer": customer.id})
    client.v1.customers.update(
        customer.id, {"invoice_settings": {"default_payment_method": card.id}}
    )
    return customer.id
