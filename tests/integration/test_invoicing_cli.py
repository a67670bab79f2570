"""`moneta dunning list|show|advance` and `moneta invoices list|estimate`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from agents.taxes.decision import TaxProfile
from agents.taxes.profiles import set_tax_profile
from core.clock import utcnow
from core.settings import reset_settings
from db.models import Customer, DunningCase, DunningStatus, Invoice, Subscription, Task
from db.session import Database
from orchestrator.cli import app as moneta
from orchestrator.transport import StreamTransport

FAILED_AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def add_cases(database: Database) -> None:
    with database.transaction() as session:
        customer = Customer(stripe_customer_id="cus_cli", email="cli@example.com")
        session.add(customer)
        session.flush()
        for invoice, status, due in (
            ("in_due", DunningStatus.OPEN, utcnow() - timedelta(hours=1)),
            ("in_later", DunningStatus.OPEN, utcnow() + timedelta(days=2)),
            ("in_paid", DunningStatus.RECOVERED, None),
        ):
            session.add(
                DunningCase(
                    stripe_invoice_id=invoice,
                    customer_id=customer.id,
                    amount_due=9900,
                    currency="usd",
                    status=status,
                    step=1,
                    next_action="remind" if due else None,
                    next_due_at=due,
                    failed_at=FAILED_AT,
                    recovered_amount=9900 if due is None else None,
                    days_to_recover=4 if due is None else None,
                )
            )


def test_list_show_and_advance(
    cli_env: CliRunner, database: Database, transport: StreamTransport
) -> None:
    add_cases(database)

    listed = cli_env.invoke(moneta, ["dunning", "list", "--status", "open", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {row["invoice"] for row in json.loads(listed.output)} == {"in_due", "in_later"}

    shown = cli_env.invoke(moneta, ["dunning", "show", "in_paid", "--json"])
    assert shown.exit_code == 0, shown.output
    row = json.loads(shown.output)
    assert (row["status"], row["recovered_amount"], row["days_to_recover"]) == (
        "recovered",
        9900,
        4,
    )
    assert row["schedule"].startswith("0:remind,3:remind")
    assert cli_env.invoke(moneta, ["dunning", "show", "in_nope"]).exit_code == 1

    advanced = cli_env.invoke(moneta, ["dunning", "advance"])
    assert advanced.exit_code == 0, advanced.output
    assert "1 case(s) have a step due" in advanced.output
    with database.transaction() as session:
        [task] = session.scalars(select(Task).where(Task.kind == "dunning.advance")).all()
        assert task.agent == "dunning"


def test_advance_refuses_a_malformed_schedule(
    cli_env: CliRunner, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONETA_DUNNING_SCHEDULE", "0:remind,3:nag")
    reset_settings()
    refused = cli_env.invoke(moneta, ["dunning", "advance"])
    assert refused.exit_code == 1 and "action must be one of" in refused.output


def test_invoices_list_and_estimate_from_the_cli(
    cli_env: CliRunner, database: Database, transport: StreamTransport
) -> None:
    now = utcnow()
    with database.transaction() as session:
        customer = Customer(stripe_customer_id="cus_est", email="est@example.com")
        session.add(customer)
        session.flush()
        session.add(
            Subscription(
                stripe_subscription_id="sub_est",
                customer_id=customer.id,
                status="active",
                plan="pro_monthly",
                unit_amount=9900,
                current_period_start=now - timedelta(days=3),
                current_period_end=now + timedelta(days=27),
            )
        )
        session.add(
            Invoice(
                stripe_invoice_id="in_est_1",
                customer_id=customer.id,
                status="paid",
                amount_due=9900,
                amount_paid=9900,
                total=9900,
                currency="usd",
            )
        )
        set_tax_profile(session, customer.id, TaxProfile("US", "NY"))

    estimated = cli_env.invoke(moneta, ["invoices", "estimate", "cus_est", "--json"])
    assert estimated.exit_code == 0, estimated.output
    body = json.loads(estimated.output)
    # 9900 and 4% NY sales tax: 396.
    assert [(line["kind"], line["amount"]) for line in body["lines"]] == [
        ("base", 9900),
        ("tax", 396),
    ]
    assert body["total"] == 10296
    table = cli_env.invoke(moneta, ["invoices", "estimate", "cus_est"])
    assert "= total USD 102.96" in table.output

    listed = cli_env.invoke(moneta, ["invoices", "list", "cus_est", "--json"])
    assert [row["invoice"] for row in json.loads(listed.output)] == ["in_est_1"]
    unknown = cli_env.invoke(moneta, ["invoices", "estimate", "cus_nobody"])
    assert unknown.exit_code == 1 and "no customer" in unknown.output
