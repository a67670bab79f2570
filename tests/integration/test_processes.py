"""Monetized processes over REST and the CLI: lifecycle, usage that accrues owner revenue
minus the platform fee, idempotency, statistics, payouts and the ledger from the command line."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from core.clock import frozen, utcnow
from core.settings import Settings
from db.session import Database
from orchestrator.access.roles import APPROVER, OPERATOR
from orchestrator.cli import app as moneta
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.operators import make_operator
from tests.support.payouts import seed_owner_revenue

PROCESS = {
    "owner_id": "researcher_001",
    "name": "SymboliQ API Access",
    "product_type": "service",
    "revenue_model": "usage_based",
    "pricing": {"unit_amount": 10},
    "currency": "usd",
}


@pytest.fixture
def app(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> FastAPI:
    return create_app(Runtime(settings, database, redis_client, transport, {}))


@pytest.fixture
def client(app: FastAPI, database: Database) -> TestClient:
    token = make_operator(database, "ole", OPERATOR)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def use(client: TestClient, process_id: int, key: str, quantity: int = 1) -> dict[str, object]:
    response = client.post(
        f"/api/v1/processes/{process_id}/usage",
        json={"quantity": quantity, "idempotency_key": key, "user": "user_001"},
    )
    return {"status": response.status_code, **response.json()}


def test_process_lifecycle_usage_fees_and_stats_over_rest(client: TestClient) -> None:
    created = client.post("/api/v1/processes", json=PROCESS)
    assert created.status_code == 201 and created.json()["status"] == "draft"
    pid = created.json()["id"]

    refused = use(client, pid, "k0")
    assert (refused["status"], refused["code"]) == (409, "process_not_active")
    illegal = client.post(f"/api/v1/processes/{pid}/resume")
    assert (illegal.status_code, illegal.json()["code"]) == (409, "illegal_transition")
    assert client.post(f"/api/v1/processes/{pid}/activate").json()["status"] == "active"

    first = use(client, pid, "k1", quantity=25)
    assert (first["status"], first["gross"], first["fee"], first["duplicate"]) == (
        201,
        250,
        25,
        False,
    )
    again = use(client, pid, "k1", quantity=25)
    assert (again["id"], again["duplicate"]) == (first["id"], True)

    assert client.post(f"/api/v1/processes/{pid}/pause").json()["status"] == "paused"
    paused = use(client, pid, "k2")
    assert (paused["status"], paused["code"]) == (409, "process_not_active")
    assert client.post(f"/api/v1/processes/{pid}/resume").json()["status"] == "active"
    assert use(client, pid, "k3", quantity=5)["gross"] == 50

    stats = client.get(f"/api/v1/processes/{pid}").json()
    assert (stats["usage_count"], stats["usage_quantity"]) == (2, 30)
    assert (stats["revenue"], stats["fees"], stats["owner_share"]) == (300, 30, 270)
    overall = client.get("/api/v1/processes/stats").json()
    assert (overall["processes"], overall["active"]) == (1, 1)
    assert overall["by_currency"]["usd"] == {"revenue": 300, "fees": 30, "payouts": 0}

    balances = client.get("/ops/ledger/balances", params={"party": "owner:researcher_001"})
    assert balances.json() == [
        {
            "account": "owner_payable",
            "party": "owner:researcher_001",
            "currency": "usd",
            "balance": 270,
        }
    ]
    assert client.get("/ops/ledger/check").json()["ok"] is True
    assert client.post(f"/api/v1/processes/{pid}/retire").json()["status"] == "retired"
    gone = client.post(f"/api/v1/processes/{pid}/activate")
    assert (gone.status_code, gone.json()["code"]) == (409, "illegal_transition")


def test_per_owner_fee_override_applies_to_new_usage(
    client: TestClient, app: FastAPI, database: Database
) -> None:
    pid = client.post("/api/v1/processes", json=PROCESS).json()["id"]
    client.post(f"/api/v1/processes/{pid}/activate")
    approver = make_operator(database, "ann", APPROVER)
    changed = TestClient(app).patch(
        "/ops/payees/owner:researcher_001",
        json={"fee_bps": 2_500},
        headers={"Authorization": f"Bearer {approver}"},
    )
    assert changed.status_code == 200 and changed.json()["fee_bps"] == 2_500
    assert use(client, pid, "k1", quantity=10)["fee"] == 25


def test_bad_process_input_is_refused(client: TestClient) -> None:
    for change, code in (
        ({"pricing": {"unit_amount": 9.99}}, "bad_pricing"),
        ({"revenue_model": "tiered", "pricing": {"tiers": []}}, "bad_pricing"),
        ({"name": " "}, "bad_name"),
    ):
        response = client.post("/api/v1/processes", json={**PROCESS, **change})
        assert (response.status_code, response.json()["code"]) == (422, code)
    assert (
        client.post("/api/v1/processes", json={**PROCESS, "product_type": "x"}).status_code == 422
    )
    assert client.get("/api/v1/processes/999").status_code == 404
    pid = client.post("/api/v1/processes", json=PROCESS).json()["id"]
    client.post(f"/api/v1/processes/{pid}/activate")
    zero = client.post(
        f"/api/v1/processes/{pid}/usage",
        json={"quantity": 0, "idempotency_key": "k", "user": "u"},
    )
    assert (zero.status_code, zero.json()["code"]) == (422, "bad_quantity")
    anonymous = TestClient(client.app).post(
        f"/api/v1/processes/{pid}/usage", json={"idempotency_key": "k", "user": "u"}
    )
    assert anonymous.status_code == 401


def test_ops_payouts_create_list_show_and_refuse_a_duplicate(
    client: TestClient, database: Database, settings: Settings
) -> None:
    seed_owner_revenue(database, settings)
    created = client.post("/ops/payouts", json={"party": "owner:researcher_001"})
    assert created.status_code == 201
    view = created.json()
    assert (view["amount"], view["status"], view["requested_by"]) == (
        9_000,
        "pending_approval",
        "ole",
    )
    duplicate = client.post("/ops/payouts", json={"party": "owner:researcher_001"})
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "payout_in_flight")
    unknown = client.post("/ops/payouts", json={"party": "owner:ghost"})
    assert unknown.status_code == 404
    assert [p["id"] for p in client.get("/ops/payouts").json()] == [view["id"]]
    assert client.get(f"/ops/payouts/{view['id']}").json()["approval_id"] == view["approval_id"]
    approval = client.get(f"/ops/approvals/{view['approval_id']}").json()
    assert (approval["action"], approval["amount"], approval["status"]) == (
        "payout",
        9_000,
        "pending",
    )


def test_cli_registers_uses_pays_out_and_checks_the_ledger(
    cli_env: CliRunner, database: Database, settings: Settings, transport: StreamTransport
) -> None:
    def run(*args: str) -> Any:
        result = cli_env.invoke(moneta, list(args))
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    with frozen(utcnow() - timedelta(days=30)):
        process = run(
            "processes",
            "register",
            "--owner",
            "ada",
            "--name",
            "Tiered API",
            "--product-type",
            "service",
            "--revenue-model",
            "tiered",
            "--pricing",
            '{"tiers": [{"up_to": 10, "unit_amount": 100}, {"up_to": null, "unit_amount": 50}]}',
            "--json",
        )
        pid = str(process["id"])
        run("processes", "activate", pid, "--json")
        usage = run(
            "processes", "usage", pid, "--user", "u1", "--key", "a", "--quantity", "30", "--json"
        )
    assert usage["gross"] == 10 * 100 + 20 * 50
    balances = run("ledger", "balances", "--party", "owner:ada", "--json")
    assert balances == [
        {"account": "owner_payable", "party": "owner:ada", "currency": "usd", "balance": 1_800}
    ]
    entries = run("ledger", "entries", "--kind", "usage", "--json")
    assert [len(e["postings"]) for e in entries] == [3]
    payout = run("payouts", "create", "--party", "owner:ada", "--requested-by", "alice", "--json")
    assert payout["net"] == 1_800
    assert run("ledger", "check", "--json")["ok"] is True
    bad = cli_env.invoke(moneta, ["processes", "pause", "999"])
    assert bad.exit_code == 1 and "unknown_process" in bad.output
