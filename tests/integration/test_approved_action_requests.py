"""Asking for a manual charge or a write-off: the `moneta approvals` commands and /ops REST.

A valid request is one pending approval with its graph's start task; a refused one is a clear
4xx (or CLI error) with a machine-readable code, and leaves nothing behind.
"""

from __future__ import annotations

import json

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.app import create_app
from core.settings import Settings
from db.models import Approval, Customer, Invoice, Task
from db.session import Database
from orchestrator.access.roles import APPROVER
from orchestrator.cli import app as moneta
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.operators import make_operator


@pytest.fixture
def ops_app(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> FastAPI:
    return create_app(Runtime(settings, database, redis_client, transport, {}))


@pytest.fixture
def customer_id(database: Database) -> int:
    with database.transaction() as session:
        customer = Customer(stripe_customer_id="cus_ada", email="ada@example.com")
        session.add(customer)
        session.flush()
        for number, status in (("in_open", "open"), ("in_paid", "paid")):
            session.add(
                Invoice(
                    stripe_invoice_id=number,
                    customer_id=customer.id,
                    status=status,
                    amount_due=12_000,
                    amount_paid=12_000 if status == "paid" else 2_000,
                    currency="eur",
                )
            )
        return customer.id


def counts(database: Database) -> tuple[int, int]:
    """(approvals, graph start tasks)."""
    with database.transaction() as session:
        approvals = session.scalar(select(func.count(Approval.id)))
        starts = session.scalar(
            select(func.count(Task.id)).where(Task.kind == "approved_action.start")
        )
        return int(approvals or 0), int(starts or 0)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_ops_charge_request_and_its_refusals(
    ops_app: FastAPI, database: Database, customer_id: int
) -> None:
    client = TestClient(ops_app)
    alice = bearer(make_operator(database, "alice", APPROVER))
    body = {
        "customer_id": customer_id,
        "amount": 4_200,
        "currency": "USD",
        "description": "On-site training",
        "reason": "agreed by e-mail",
    }
    for change, status, code in (
        ({"amount": 0}, 422, "amount_invalid"),
        ({"amount": 42.5}, 422, None),  # a float is refused, never rounded
        ({"currency": "dollars"}, 422, "currency_invalid"),
        ({"description": " "}, 422, "description_invalid"),
        ({"customer_id": 999_999}, 404, "unknown_customer"),
    ):
        refused = client.post("/ops/charges", json={**body, **change}, headers=alice)
        assert refused.status_code == status, refused.text
        if code is not None:
            assert refused.json()["code"] == code
    assert counts(database) == (0, 0)

    created = client.post("/ops/charges", json=body, headers=alice)
    assert created.status_code == 201, created.text
    view = created.json()
    assert (view["action"], view["status"], view["amount"], view["currency"]) == (
        "manual_charge",
        "pending",
        4_200,
        "usd",
    )
    assert (view["requested_by"], view["subject_id"]) == ("alice", str(customer_id))
    assert counts(database) == (1, 1)


def test_ops_write_off_request_and_its_refusals(
    ops_app: FastAPI, database: Database, customer_id: int
) -> None:
    client = TestClient(ops_app)
    alice = bearer(make_operator(database, "alice", APPROVER))
    for invoice, status, code in (
        ("in_nope", 404, "unknown_invoice"),
        ("in_paid", 409, "invoice_not_open"),
    ):
        refused = client.post(
            "/ops/write-offs", json={"invoice": invoice, "reason": "x"}, headers=alice
        )
        assert refused.status_code == status and refused.json()["code"] == code
    created = client.post(
        "/ops/write-offs", json={"invoice": "in_open", "reason": "bankrupt"}, headers=alice
    )
    assert created.status_code == 201, created.text
    assert (created.json()["amount"], created.json()["currency"]) == (10_000, "eur")
    again = client.post(
        "/ops/write-offs", json={"invoice": "in_open", "reason": "bankrupt"}, headers=alice
    )
    assert again.status_code == 409 and again.json()["code"] == "already_requested"
    assert counts(database) == (1, 1)


def test_cli_requests_a_charge_and_a_write_off(
    cli_env: CliRunner, database: Database, customer_id: int
) -> None:
    charge = cli_env.invoke(
        moneta,
        [
            "approvals",
            "request-charge",
            "--customer",
            str(customer_id),
            "--amount",
            "1500",
            "--currency",
            "usd",
            "--description",
            "Setup fee",
            "--reason",
            "contract clause 4",
            "--requested-by",
            "alice",
            "--json",
        ],
    )
    assert charge.exit_code == 0, charge.output
    assert json.loads(charge.output)["action"] == "manual_charge"
    write_off = cli_env.invoke(
        moneta,
        [
            "approvals",
            "request-write-off",
            "--invoice",
            "in_open",
            "--reason",
            "bankrupt",
            "--requested-by",
            "alice",
        ],
    )
    assert write_off.exit_code == 0, write_off.output
    assert "pending: write_off of" in write_off.output and "100.00" in write_off.output
    refused = cli_env.invoke(
        moneta,
        [
            "approvals",
            "request-write-off",
            "--invoice",
            "in_paid",
            "--reason",
            "x",
            "--requested-by",
            "alice",
        ],
    )
    assert refused.exit_code != 0 and "not open" in refused.output
    assert counts(database) == (2, 2)
