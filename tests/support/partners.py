"""Stripe objects and a worker harness for partner (affiliate/agency) tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.settings import Settings
from db.repositories.stripe_inbox import add_event
from db.session import Database
from orchestrator.outbox import submit
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from orchestrator.worker import Worker
from tests.support.stripe_events import event, fixture
from tools.stripe.sandbox import SandboxGateway

T0 = 1_790_000_000


def customer(cus: str, email: str) -> dict[str, Any]:
    return fixture("customer", id=cus, email=email, name="Buyer", discount=None)


def paid_invoice(
    inv: str, cus: str, charge: str, *, total: int, tax: int, email: str | None = None
) -> dict[str, Any]:
    """A paid endive invoice of `total` (tax included) settled by one charge, paid just now."""
    return fixture(
        "invoice",
        id=inv,
        customer=cus,
        customer_email=email,
        status="paid",
        number=f"N-{inv}",
        currency="usd",
        total=total,
        total_excluding_tax=total - tax,
        amount_due=total,
        amount_paid=total,
        attempt_count=1,
        hosted_invoice_url=f"https://invoice.stripe.com/i/{inv}",
        billing_reason="subscription_create",
        parent=None,
        payments={
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "payment": {"type": "charge", "charge": charge},
                    "status": "paid",
                    "amount_paid": total,
                }
            ],
        },
        status_transitions={"paid_at": int(time.time())},
    )


def card_charge(
    ch: str, cus: str, *, amount: int, fingerprint: str, refunds: tuple[dict[str, Any], ...] = ()
) -> dict[str, Any]:
    refunded = sum(r["amount"] for r in refunds)
    obj = fixture(
        "charge",
        id=ch,
        customer=cus,
        amount=amount,
        amount_captured=amount,
        amount_refunded=refunded,
        refunded=refunded == amount,
        payment_intent=f"pi_{ch}",
        paid=True,
        created=T0,
        refunds={"object": "list", "has_more": False, "data": list(refunds)},
    )
    obj["payment_method_details"]["card"]["fingerprint"] = fingerprint
    return obj


def refund(re: str, ch: str, amount: int) -> dict[str, Any]:
    return fixture(
        "refund", id=re, charge=ch, amount=amount, currency="usd", status="succeeded", created=T0
    )


def deliver(database: Database, evt: dict[str, Any]) -> None:
    """A verified webhook as intake stores it: the inbox row and its `stripe.event` task."""
    with database.transaction() as s:
        add_event(s, evt, source="webhook")
        submit(s, "stripe.event", {"event_id": evt["id"]}, dedupe_key=f"stripe:{evt['id']}")


def webhook(event_type: str, obj: dict[str, Any], offset: int = 0) -> dict[str, Any]:
    return event(event_type, obj, created=T0 + offset)


@contextmanager
def running_worker(
    settings: Settings,
    database: Database,
    transport: StreamTransport,
    redis_client: Any,
    tools: dict[str, Any],
    agents: list[str],
) -> Iterator[Worker]:
    """A real worker over `agents` (their own handlers), stopped when the block ends."""
    runtime = Runtime(settings, database, redis_client, transport, tools)
    worker = Worker(runtime, agents, concurrency=2, batch=4, name="partners-test")
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        worker.join(10)


def sandbox(settings: Settings) -> SandboxGateway:
    return SandboxGateway(settings.data_dir / "stripe-sandbox.db")
