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
from api.ops.approvals import router as ops_router
from core.settings import Settings
from db.session import Database
from orchestrator.commands import approvals as approval_commands
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.refunds import PaidCustomer, seed_paid_customer

TOKEN = "ops-secret"

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
    assert "600.00 USD" in listed.output and "alice" in listed.output
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
    runtime = Runtime(
        settings.model_copy(update={"ops_token": TOKEN}), database, redis_client, transport, {}
    )
    app = create_app(runtime)
    if not any(getattr(r, "path", "").startswith("/ops/") for r in app.routes):
        app.include_router(ops_router)  # until api/app.py mounts it
    return app


def test_ops_api_requires_the_bearer_token(ops_app: FastAPI) -> None:
    client = TestClient(ops_app)
    assert client.get("/ops/approvals").status_code == 401
    wrong = client.get("/ops/approvals", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthorized"
    ops_app.state.runtime.settings = ops_app.state.runtime.settings.model_copy(
        update={"ops_token": None}
    )
    closed = client.get("/ops/approvals", headers={"Authorization": f"Bearer {TOKEN}"})
    assert closed.status_code == 403 and "MONETA_OPS_TOKEN" in closed.json()["detail"]


def test_ops_api_request_approve_reject_flow(ops_app: FastAPI, paid: PaidCustomer) -> None:
    client = TestClient(ops_app, headers={"Authorization": f"Bearer {TOKEN}"})
    created = client.post(
        "/ops/refunds",
        json={
            "payment": paid.charge,
            "amount": 1_000,
            "reason": "late delivery",
            "requested_by": "alice",
        },
    )
    assert created.status_code == 201, created.text
    approval_id = created.json()["id"]

    own = client.post(f"/ops/approvals/{approval_id}/approve", json={"operator": "alice"})
    assert own.status_code == 403 and own.json()["code"] == "self_approval"
    no_reason = client.post(
        f"/ops/approvals/{approval_id}/reject", json={"operator": "bob", "reason": " "}
    )
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    approved = client.post(
        f"/ops/approvals/{approval_id}/approve", json={"operator": "bob", "note": "fine"}
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = client.post(
        f"/ops/approvals/{approval_id}/reject", json={"operator": "carol", "reason": "too late"}
    )
    assert again.status_code == 409 and again.json()["code"] == "not_pending"

    listed = client.get("/ops/approvals", params={"status": "approved"}).json()
    assert [a["id"] for a in listed] == [approval_id]
    shown = client.get(f"/ops/approvals/{approval_id}").json()
    assert shown["decisions"][0]["operator"] == "bob"
    assert client.get("/ops/approvals/999").status_code == 404
    over = client.post(
        "/ops/refunds",
        json={"payment": paid.charge, "amount": 89_001, "reason": "x", "requested_by": "alice"},
    )
    assert over.status_code == 409 and over.json()["code"] == "amount_exceeds_refundable"
