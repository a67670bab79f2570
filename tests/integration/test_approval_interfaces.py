"""The operator's two doors to approvals: the `moneta` CLI commands and the /ops REST API."""

from __future__ import annotations

import json

import pytest
import redis
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from core.settings import Settings
from db.session import Database
from orchestrator.access.roles import APPROVER, VIEWER
from orchestrator.commands import approvals as approval_commands
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.operators import make_operator
from tests.support.refunds import PaidCustomer, seed_paid_customer

# Mounted as orchestrator/cli.py mounts them: `moneta approvals ...`, `moneta refunds ...`.
moneta = typer.Typer()
moneta.add_typer(approval_commands.app, name="approvals")
moneta.add_typer(approval_commands.refunds_app, name="refunds")


@pytest.fixture
def paid(database: Database) -> PaidCustomer:
    return seed_paid_customer(database, amount=90_000)


def test_cli_request_approve_and_show(cli_env: CliRunner, paid: PaidCustomer) -> None:
    requested = cli_env.invoke(
        moneta,
        [
            "refunds",
            "request",
            "--payment",
            paid.charge,
            "--amount",
            "60000",
            "--reason",
            "double charge",
            "--requested-by",
            "alice",
            "--json",
        ],
    )
    assert requested.exit_code == 0, requested.output
    approval = json.loads(requested.output)
    assert (approval["status"], approval["required_approvals"]) == ("pending", 2)
    approval_id = str(approval["id"])

    own = cli_env.invoke(moneta, ["approvals", "approve", approval_id, "--operator", "Alice"])
    assert own.exit_code != 0
    assert "cannot approve their own request" in own.output

    assert (
        cli_env.invoke(moneta, ["approvals", "approve", approval_id, "--operator", "bob"]).exit_code
        == 0
    )
    listed = cli_env.invoke(moneta, ["approvals", "list", "--status", "pending"])
    assert "USD 600.00" in listed.output and "alice" in listed.output
    done = cli_env.invoke(moneta, ["approvals", "approve", approval_id, "--operator", "carol"])
    assert done.exit_code == 0 and "approved" in done.output

    shown = json.loads(cli_env.invoke(moneta, ["approvals", "show", approval_id, "--json"]).output)
    assert shown["status"] == "approved"
    assert [d["operator"] for d in shown["decisions"]] == ["bob", "carol"]


def test_cli_errors_are_one_line_and_nonzero(cli_env: CliRunner, paid: PaidCustomer) -> None:
    too_much = cli_env.invoke(
        moneta,
        [
            "refunds",
            "request",
            "--payment",
            paid.charge,
            "--amount",
            "90001",
            "--reason",
            "x",
            "--requested-by",
            "alice",
        ],
    )
    assert too_much.exit_code == 1
    assert too_much.output.strip().splitlines() == [
        "error: 90001 exceeds the 90000 still refundable (minor units of USD)"
    ]
    missing = cli_env.invoke(
        moneta, ["approvals", "reject", "999", "--operator", "bob", "--reason", "x"]
    )
    assert missing.exit_code == 1 and missing.output.strip() == "error: no approval 999"


@pytest.fixture
def ops_app(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> FastAPI:
    return create_app(Runtime(settings, database, redis_client, transport, {}))


def test_ops_api_requires_an_operator_token(ops_app: FastAPI, database: Database) -> None:
    client = TestClient(ops_app)
    assert client.get("/ops/approvals").status_code == 401
    wrong = client.get("/ops/approvals", headers={"Authorization": "Bearer mop_0000_nope"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthorized"
    token = make_operator(database, "vera", VIEWER)
    assert client.get("/ops/approvals", headers=bearer(token)).status_code == 200


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_ops_api_request_approve_reject_flow(
    ops_app: FastAPI, database: Database, paid: PaidCustomer
) -> None:
    client = TestClient(ops_app)
    alice, bob, carol = (make_operator(database, n, APPROVER) for n in ("alice", "bob", "carol"))
    created = client.post(
        "/ops/refunds",
        json={"payment": paid.charge, "amount": 1_000, "reason": "late delivery"},
        headers=bearer(alice),
    )
    assert created.status_code == 201, created.text
    approval_id = created.json()["id"]
    assert created.json()["requested_by"] == "alice"

    own = client.post(f"/ops/approvals/{approval_id}/approve", json={}, headers=bearer(alice))
    assert own.status_code == 403 and own.json()["code"] == "self_approval"
    no_reason = client.post(
        f"/ops/approvals/{approval_id}/reject", json={"reason": " "}, headers=bearer(bob)
    )
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    # The operator is the token's owner: a name in the body is not an identity.
    approved = client.post(
        f"/ops/approvals/{approval_id}/approve",
        json={"note": "fine", "operator": "alice"},
        headers=bearer(bob),
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = client.post(
        f"/ops/approvals/{approval_id}/reject", json={"reason": "too late"}, headers=bearer(carol)
    )
    assert again.status_code == 409 and again.json()["code"] == "not_pending"

    listed = client.get("/ops/approvals", params={"status": "approved"}, headers=bearer(bob))
    assert [a["id"] for a in listed.json()] == [approval_id]
    shown = client.get(f"/ops/approvals/{approval_id}", headers=bearer(bob)).json()
    assert shown["decisions"][0]["operator"] == "bob"
    assert client.get("/ops/approvals/999", headers=bearer(bob)).status_code == 404
    over = client.post(
        "/ops/refunds",
        json={"payment": paid.charge, "amount": 89_001, "reason": "x"},
        headers=bearer(alice),
    )
    assert over.status_code == 409 and over.json()["code"] == "amount_exceeds_refundable"
