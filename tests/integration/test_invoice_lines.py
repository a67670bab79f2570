"""Invoice lines and totals mirrored from signed invoice events, order-safe and idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe
from sqlalchemy import select

from core.clock import frozen
from db.models import Invoice, InvoiceLine
from db.session import Database
from tests.support.invoicing import (
    InvoicingScene,
    invoice_event,
    invoice_line,
    localstripe_paying_customer,
    sandbox_scene,  # noqa: F401  (a fixture)
    stripe_customer,
    stripe_invoice,
)
from tests.support.localstripe import TEST_API_KEY
from tools.stripe.client import StripeClientGateway
from tools.stripe.sandbox import SandboxGateway

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def sandbox(tmp_path: Path) -> SandboxGateway:
    stripe = SandboxGateway(tmp_path / "sandbox.db")
    stripe.put("customer", stripe_customer("cus_ada", "ada@example.com"))
    return stripe


@pytest.fixture
def scene(sandbox_scene: InvoicingScene) -> InvoicingScene:  # noqa: F811
    return sandbox_scene


def lines_of(database: Database, invoice_id: str) -> list[tuple[str, int, int, int, bool]]:
    with database.transaction() as session:
        rows = session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.stripe_invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
        return [
            (r.stripe_line_id, r.amount, r.discount_amount, r.tax_amount, r.proration) for r in rows
        ]


def invoice_row(database: Database, invoice_id: str) -> Invoice:
    with database.transaction() as session:
        row = session.scalars(select(Invoice).where(Invoice.stripe_invoice_id == invoice_id)).one()
        session.expunge(row)
        return row


def paid_invoice(lines: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    return stripe_invoice(
        "in_ada_1", "cus_ada", "sub_ada", status="paid", lines=lines, paid_at=T0, has_more=has_more
    )


BASE = invoice_line(
    "il_base", 9900, description="Pro x 1", price="price_pro", discount=990, tax=1693
)
CREDIT = invoice_line(
    "il_credit", -1900, description="Unused time on Starter", price="price_starter", proration=True
)


def test_paid_invoice_event_mirrors_its_lines_and_totals(
    scene: InvoicingScene, database: Database
) -> None:
    with frozen(T0):
        scene.deliver(invoice_event("invoice.paid", paid_invoice([BASE, CREDIT]), T0))

    assert lines_of(database, "in_ada_1") == [
        ("il_base", 9900, 990, 1693, False),
        ("il_credit", -1900, 0, 0, True),
    ]
    row = invoice_row(database, "in_ada_1")
    # 9900 - 1900 = 8000 subtotal; less 990 discount; plus 1693 tax.
    assert (row.subtotal, row.total_discount, row.tax, row.total) == (8000, 990, 1693, 8703)
    with database.transaction() as session:
        line = session.scalars(
            select(InvoiceLine).where(InvoiceLine.stripe_line_id == "il_base")
        ).one()
        assert line.stripe_price_id == "price_pro" and line.stripe_subscription_id == "sub_ada"
        assert line.description == "Pro x 1" and line.currency == "usd"


def test_an_older_event_never_overwrites_newer_lines(
    scene: InvoicingScene, database: Database
) -> None:
    draft = stripe_invoice(
        "in_ada_1",
        "cus_ada",
        "sub_ada",
        status="open",
        lines=[invoice_line("il_old", 1900, description="Starter")],
    )
    with frozen(T0 + timedelta(minutes=5)):
        scene.deliver(
            invoice_event("invoice.paid", paid_invoice([BASE]), T0 + timedelta(minutes=5))
        )
        # Delivered late, but created before the paid snapshot: stale.
        scene.deliver(invoice_event("invoice.payment_failed", draft, T0))

    assert lines_of(database, "in_ada_1") == [("il_base", 9900, 990, 1693, False)]
    assert invoice_row(database, "in_ada_1").status == "paid"


def test_a_newer_snapshot_replaces_the_lines_and_a_replay_changes_nothing(
    scene: InvoicingScene, database: Database
) -> None:
    failed = stripe_invoice(
        "in_ada_1",
        "cus_ada",
        "sub_ada",
        status="open",
        lines=[invoice_line("il_old", 1900, description="Starter")],
    )
    paid = invoice_event("invoice.paid", paid_invoice([BASE, CREDIT]), T0 + timedelta(hours=1))
    with frozen(T0 + timedelta(hours=1)):
        scene.deliver(invoice_event("invoice.payment_failed", failed, T0))
        assert [line[0] for line in lines_of(database, "in_ada_1")] == ["il_old"]
        scene.deliver(paid)
        scene.deliver({**paid, "id": paid["id"] + "_redelivered"})  # same snapshot, new event

    assert [line[0] for line in lines_of(database, "in_ada_1")] == ["il_base", "il_credit"]


def test_a_truncated_line_list_is_fetched_whole_from_stripe(
    scene: InvoicingScene, database: Database, sandbox: SandboxGateway
) -> None:
    everything = [BASE, CREDIT, invoice_line("il_seats", 2000, description="Seats x 2")]
    sandbox.put("invoice", paid_invoice(everything))
    first_page = paid_invoice(everything[:1], has_more=True)
    with frozen(T0):
        scene.deliver(invoice_event("invoice.paid", first_page, T0))

    assert [line[0] for line in lines_of(database, "in_ada_1")] == [
        "il_base",
        "il_credit",
        "il_seats",
    ]


def test_the_client_gateway_lists_an_invoices_lines_at_localstripe(localstripe: str) -> None:
    gateway = StripeClientGateway(TEST_API_KEY, api_base=localstripe)
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": localstripe})
    stripe_customer_id = localstripe_paying_customer(client, "lines@example.com")
    plan = client.v1.plans.create(
        {"amount": 4900, "currency": "usd", "interval": "month", "product": {"name": "Team"}}
    )
    # localstripe invoices only subscriptions: the invoice holds its item and the pending ones.
    subscription = client.v1.subscriptions.create(
        {"customer": stripe_customer_id, "items": [{"plan": plan.id}]}
    )
    for amount in (1100, 2200, 3300):
        gateway.create_invoice_item(
            customer=stripe_customer_id,
            amount=amount,
            currency="usd",
            description=f"item {amount}",
            idempotency_key=f"lines-test:{amount}",
        )
    invoice = client.v1.invoices.create(
        {"customer": stripe_customer_id, "subscription": subscription.id}
    )

    lines = gateway.list_invoice_lines(invoice=invoice.id)

    assert sorted(line["amount"] for line in lines) == [1100, 2200, 3300, 4900]
    assert {line["invoice"] for line in lines} == {invoice.id}
