"""POST /api/v1/access/check and GET /api/v1/entitlements through the real app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from agents.access.service import build_access_service
from api.app import create_app
from core.errors import NotFound
from core.settings import Settings
from db.models import AccessDecisionRecord, Entitlement
from db.session import Database
from orchestrator.access.api_keys import create_api_key
from orchestrator.access.roles import OPERATOR
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.operators import make_operator
from tests.support.wallets import balances, customer_with_tokens


@pytest.fixture
def app(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> Any:
    return create_app(Runtime(settings, database, redis_client, transport, {}))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def pro_customer(database: Database, tokens: int) -> tuple[int, dict[str, str]]:
    customer = customer_with_tokens(database, tokens)
    with database.transaction() as session:
        session.add(Entitlement(customer_id=customer, feature="sso", plan="pro", status="active"))
        secret = create_api_key(session, customer, actor="test").secret
    return customer, {"X-API-Key": secret}


def check(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/access/check", json=body, headers=headers)


def test_a_priced_check_deducts_its_cost_in_the_same_call_once_per_key(
    client: TestClient, database: Database
) -> None:
    customer, key = pro_customer(database, 25)
    answer = check(client, key, assets=["model:llm-base"], action="execute", idempotency_key="r1")
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"replayed": None} == {
        "allowed": True,
        "rule": "token_pricing",
        "reason": None,
        "cost": 20,
        "deducted": 20,
        "replayed": None,
        "redirect": None,
        "bundles": [],
    }
    again = check(client, key, assets=["model:llm-base"], action="execute", idempotency_key="r1")
    assert again.json()["allowed"] and again.json()["replayed"] and again.json()["deducted"] == 0
    assert balances(database, customer) == (5, 5)

    short = check(client, key, assets=["model:llm-base"], action="execute", idempotency_key="r2")
    assert short.json()["allowed"] is False
    assert short.json()["reason"] == "insufficient_balance"
    assert balances(database, customer) == (5, 5)


def test_a_free_customer_is_sent_to_pricing(client: TestClient, database: Database) -> None:
    customer = customer_with_tokens(database, 0)
    with database.transaction() as session:
        key = {"X-API-Key": create_api_key(session, customer, actor="test").secret}
    answer = check(client, key, assets=["dataset:market"], action="read", idempotency_key="x")
    assert answer.json()["allowed"] is False
    assert (answer.json()["reason"], answer.json()["redirect"]) == ("upgrade_required", "/pricing")


def test_unknown_assets_and_actions_are_clear_errors(
    client: TestClient, database: Database
) -> None:
    _, key = pro_customer(database, 10)
    unknown = check(client, key, assets=["model:ghost"], action="read", idempotency_key="k")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_asset")
    bad = check(client, key, assets=["model:llm-base"], action="steal", idempotency_key="k")
    assert (bad.status_code, bad.json()["code"]) == (422, "bad_action")
    missing = check(client, key, assets=["model:llm-base"], action="read")
    assert missing.status_code == 422


def test_every_decision_is_recorded_denials_too(
    client: TestClient, app: Any, database: Database
) -> None:
    _, key = pro_customer(database, 10)
    for n, asset in enumerate(["dataset:market", "model:llm-base", "dataset:market"]):
        check(client, key, assets=[asset], action="execute", idempotency_key=f"t{n}")
    app.state.access_service.recorder.flush()
    with database.transaction() as session:
        rows = session.execute(
            select(AccessDecisionRecord.allowed, AccessDecisionRecord.reason).order_by(
                AccessDecisionRecord.id
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (True, None),
        (False, "insufficient_balance"),
        (True, None),
    ]


def test_an_operator_checks_entitlements_of_any_customer_and_a_key_only_its_own(
    client: TestClient, database: Database
) -> None:
    customer, key = pro_customer(database, 0)
    other, _ = pro_customer(database, 0)
    token = make_operator(database, "olga", OPERATOR)
    operator = {"Authorization": f"Bearer {token}"}
    seen = client.get(f"/api/v1/entitlements/{other}?feature=sso", headers=operator)
    assert seen.status_code == 200, seen.text
    assert seen.json()["plan"] == "pro"
    assert seen.json()["check"] == {"feature": "sso", "allowed": True, "limit": None}
    assert client.get(f"/api/v1/entitlements/{customer}", headers=key).status_code == 200
    assert client.get(f"/api/v1/entitlements/{other}", headers=key).status_code == 403
    assert client.get("/api/v1/entitlements/999999", headers=operator).status_code == 404


def test_the_checked_user_carries_the_ledger_balance_and_an_unknown_customer_is_refused(
    settings: Settings, database: Database, redis_client: redis.Redis
) -> None:
    access = build_access_service(database, redis_client, settings)
    try:
        customer = customer_with_tokens(database, 12)
        assert access.user(customer).token_balance == 12
        with pytest.raises(NotFound):
            access.user(987_654)
    finally:
        access.close()
