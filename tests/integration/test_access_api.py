"""POST /api/v1/access/check and GET /api/v1/entitlements through the real app."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from agents.access.service import AccessResult, CheckRequest, build_access_service
from agents.provisioning.cache import invalidate_after_commit
from agents.wallet import ledger
from api.app import create_app
from core.errors import InvalidInput, NotFound
from core.settings import Settings
from db.models import AccessDecisionRecord, Entitlement
from db.session import Database
from orchestrator.access.api_keys import create_api_key
from orchestrator.access.roles import OPERATOR
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.operators import make_operator
from tests.support.wallets import balances, customer_with_tokens, grant


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
        users = access.users([customer, 987_654])
        assert list(users) == [customer]
        assert users[customer].token_balance == 12
        with pytest.raises(NotFound):
            access.check(987_654, ["dataset:market"], "read", "k")
    finally:
        access.close()


def test_checks_answered_together_each_get_their_own_answer_and_never_overspend(
    settings: Settings, database: Database, redis_client: redis.Redis
) -> None:
    access = build_access_service(database, redis_client, settings)
    try:
        customer, _ = pro_customer(database, 5)
        market = ["dataset:market"]  # 2 tokens a read
        answers = access.check_many(
            [
                CheckRequest(customer, market, "read", "a"),
                CheckRequest(customer, ["model:ghost"], "read", "g"),
                CheckRequest(customer, market, "read", "b"),
                CheckRequest(987_654, market, "read", "n"),
                CheckRequest(customer, market, "read", "c"),
                CheckRequest(customer, market, "read", "a"),
            ]
        )
        a, ghost, b, nobody, c, a_again = answers
        assert isinstance(ghost, InvalidInput) and isinstance(nobody, NotFound)
        assert isinstance(a, AccessResult) and (a.decision.allowed, a.deducted) == (True, 2)
        assert isinstance(b, AccessResult) and (b.decision.allowed, b.deducted) == (True, 2)
        assert isinstance(c, AccessResult) and c.decision.reason == "insufficient_balance"
        assert isinstance(a_again, AccessResult) and a_again.decision.allowed
        assert (a_again.replayed, a_again.deducted) == (True, 0)
        assert balances(database, customer) == (1, 1)
        assert access.recorder.flush() == 4  # the decisions; not the refused requests
    finally:
        access.close()


def test_concurrent_checks_over_http_spend_exactly_the_balance(
    client: TestClient, database: Database
) -> None:
    """Requests in flight together are batched (one read, one wallet batch): still exact."""
    customer, key = pro_customer(database, 7)
    keys = [f"c{n % 5}" for n in range(10)]  # 5 keys, each asked twice (10: the key's burst)

    def ask(idempotency_key: str) -> Any:
        body = {"assets": ["dataset:market"], "action": "read"}
        return check(client, key, **body, idempotency_key=idempotency_key).json()

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(ask, keys))
    charged = [k for k, answer in zip(keys, answers, strict=True) if answer["deducted"]]
    assert len(charged) == len(set(charged)) == 3  # 7 tokens at 2 each, a key once
    assert all(answer["deducted"] in (0, 2) for answer in answers)
    assert balances(database, customer) == (1, 1)


def test_a_grant_a_revoke_and_a_plan_change_show_in_the_next_check(
    client: TestClient, database: Database, redis_client: redis.Redis, settings: Settings
) -> None:
    customer = customer_with_tokens(database, 0)
    with database.transaction() as session:
        key = {"X-API-Key": create_api_key(session, customer, actor="test").secret}

    def read(idempotency_key: str) -> Any:
        body = {"assets": ["dataset:market"], "action": "read"}
        return check(client, key, **body, idempotency_key=idempotency_key).json()

    assert read("before")["reason"] == "upgrade_required"
    with database.transaction() as session:
        grant(session, customer, 10)
    granted = read("granted")
    assert (granted["allowed"], granted["deducted"]) == (True, 2)
    assert balances(database, customer) == (8, 8)
    with database.transaction() as session:
        ledger.post_debit(session, customer, tokens=8, kind="revoke", key="revoke:test")
    assert read("revoked")["reason"] == "upgrade_required"
    with database.transaction() as session:
        session.add(Entitlement(customer_id=customer, feature="sso", plan="enterprise"))
        invalidate_after_commit(session, redis_client, settings.redis_prefix, customer)
    enterprise = read("enterprise")
    assert (enterprise["allowed"], enterprise["rule"]) == (True, "enterprise_unlimited")
