"""Buying tokens through Checkout, refunds taking them back, and gated operator actions.

Signed webhooks go through the real intake; billing and wallet tasks run as workers run them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from agents.approvals.service import decide
from agents.billing import graph as billing
from agents.checkpoints import checkpointer_factory
from agents.wallet import graph as wallet_agent
from agents.wallet.approvals import CLAWBACK_ACTION, GRANT_ACTION, request_grant
from agents.wallet.service import TokenWallet
from api.app import create_app
from core.errors import Forbidden
from core.settings import Settings
from db.models import Approval, ApprovalStatus, Task, WalletGrant, WalletRefund
from db.session import Database
from orchestrator.access.accounts import create_operator, issue_token
from orchestrator.access.api_keys import create_api_key
from orchestrator.access.roles import OPERATOR, VIEWER
from orchestrator.outbox import submit
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.stripe_events import event, fixture, signed
from tests.support.task_running import AgentTasks
from tests.support.wallets import balances, customer_with_tokens, grant
from tools.stripe.sandbox import SandboxGateway

SECRET = "whsec_test_primary"
STRIPE_CUSTOMER = "cus_tokens_ada"


@pytest.fixture
def tools(settings: Settings, redis_client: redis.Redis) -> dict[str, Any]:
    return {
        "stripe": SandboxGateway(settings.data_dir / "stripe-sandbox.db"),
        "checkpointer_factory": checkpointer_factory(settings.effective_database_url),
        "redis": redis_client,
    }


@pytest.fixture
def client(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    tools: dict[str, Any],
) -> Iterator[TestClient]:
    runtime = Runtime(settings, database, redis_client, transport, tools)
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def agents(database: Database, settings: Settings, tools: dict[str, Any]) -> AgentTasks:
    return AgentTasks(
        database, settings, tools, {"billing": billing.handle, "wallet": wallet_agent.handle}
    )


@pytest.fixture
def customer(database: Database) -> int:
    return customer_with_tokens(database, 0, stripe_id=STRIPE_CUSTOMER)


@pytest.fixture
def api_key(database: Database, customer: int) -> dict[str, str]:
    with database.transaction() as session:
        secret = create_api_key(session, customer, actor="test").secret
    return {"X-API-Key": secret}


def deliver(client: TestClient, evt: dict[str, Any]) -> None:
    body, signature = signed(evt, SECRET)
    response = client.post(
        "/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


def session_event(kind: str, checkout: dict[str, Any], payment_status: str) -> dict[str, Any]:
    obj = fixture(
        "checkout.session",
        id=checkout["session_id"],
        customer=STRIPE_CUSTOMER,
        mode="payment",
        status="complete",
        payment_status=payment_status,
        payment_intent=f"pi_{checkout['session_id'][-12:]}",
        amount_total=checkout["amount"],
        currency="usd",
        metadata={
            "kind": "token_purchase",
            "tokens": str(checkout["tokens"]),
            "customer_id": str(checkout["customer_id"]),
        },
    )
    return event(kind, obj)


def refund_event(checkout: dict[str, Any], refunded: int) -> dict[str, Any]:
    charge = fixture(
        "charge",
        id=f"ch_{checkout['session_id'][-12:]}",
        customer=STRIPE_CUSTOMER,
        payment_intent=f"pi_{checkout['session_id'][-12:]}",
        amount=checkout["amount"],
        amount_refunded=refunded,
        refunded=refunded >= checkout["amount"],
        currency="usd",
        status="succeeded",
        paid=True,
    )
    return event("charge.refunded", charge)


def buy(
    client: TestClient, headers: dict[str, str], agents: AgentTasks, tokens: int
) -> dict[str, Any]:
    """Open a checkout and pay it; returns the checkout as the API answered."""
    response = client.post("/api/v1/wallet/checkout", json={"tokens": tokens}, headers=headers)
    assert response.status_code == 201, response.text
    checkout = response.json()
    deliver(client, session_event("checkout.session.completed", checkout, "paid"))
    agents.drain()
    return checkout


def balance(client: TestClient, headers: dict[str, str]) -> int:
    response = client.get("/api/v1/wallet", headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["balance"])


def approvals_of(database: Database, action: str) -> list[Approval]:
    with database.transaction() as session:
        return list(
            session.scalars(select(Approval).where(Approval.action == action).order_by(Approval.id))
        )


def test_tokens_are_credited_only_once_the_checkout_is_paid(
    client: TestClient, agents: AgentTasks, api_key: dict[str, str], database: Database
) -> None:
    response = client.post("/api/v1/wallet/checkout", json={"tokens": 10_000}, headers=api_key)
    assert response.status_code == 201, response.text
    checkout = response.json()
    assert (checkout["amount"], checkout["currency"]) == (100, "usd")  # $0.10 per 1,000
    assert checkout["url"]

    deliver(client, session_event("checkout.session.completed", checkout, "unpaid"))
    agents.drain()
    assert balance(client, api_key) == 0
    with database.transaction() as session:
        assert session.scalars(select(Task).where(Task.kind == "wallet.credit")).all() == []

    paid = session_event("checkout.session.async_payment_succeeded", checkout, "paid")
    deliver(client, paid)
    deliver(client, session_event("checkout.session.async_payment_succeeded", checkout, "paid"))
    agents.drain()
    assert balance(client, api_key) == 10_000

    history = client.get("/api/v1/wallet/history", headers=api_key).json()["entries"]
    assert [(e["type"], e["tokens"], e["source"]) for e in history] == [
        ("grant", 10_000, "purchase")
    ]


def test_buying_a_part_of_a_token_block_is_refused(
    client: TestClient, api_key: dict[str, str]
) -> None:
    response = client.post("/api/v1/wallet/checkout", json={"tokens": 1_500}, headers=api_key)
    assert response.status_code == 422
    assert response.json()["code"] == "bad_tokens"


def test_refund_of_an_unspent_purchase_revokes_all_its_tokens(
    client: TestClient, agents: AgentTasks, api_key: dict[str, str], database: Database
) -> None:
    checkout = buy(client, api_key, agents, 10_000)
    assert balance(client, api_key) == 10_000
    deliver(client, refund_event(checkout, checkout["amount"]))
    agents.drain()
    assert balance(client, api_key) == 0
    assert approvals_of(database, CLAWBACK_ACTION) == []


def test_refund_of_a_partly_spent_purchase_revokes_the_rest_and_asks_for_a_clawback(
    client: TestClient,
    agents: AgentTasks,
    api_key: dict[str, str],
    database: Database,
    redis_client: redis.Redis,
    settings: Settings,
    customer: int,
) -> None:
    checkout = buy(client, api_key, agents, 10_000)
    wallet = TokenWallet(database, redis_client, settings)
    assert wallet.deduct(customer, "ad_generation", 6_000, "campaign-1").ok
    wallet.close()
    with database.transaction() as session:
        grant(session, customer, 2_000)  # bought later, untouched by the refund

    refunded = refund_event(checkout, checkout["amount"])
    deliver(client, refunded)
    deliver(client, refund_event(checkout, checkout["amount"]))  # Stripe reports it again
    agents.drain()
    assert wallet.balance(customer) == 2_000  # the 4,000 unused tokens are revoked
    [clawback] = approvals_of(database, CLAWBACK_ACTION)
    assert (clawback.status, clawback.amount, clawback.customer_id) == ("pending", 60, customer)

    with database.transaction() as session:
        decide(session, clawback.id, operator="bob", approve=True, note="ok", submit=submit)
    agents.drain()
    [done] = approvals_of(database, CLAWBACK_ACTION)
    assert done.status == ApprovalStatus.EXECUTED
    assert done.result == {"clawed_back": 2_000, "written_off": 4_000}
    assert balances(database, customer) == (0, 0)


@pytest.mark.parametrize("refund_first", [False, True], ids=["credit_first", "refund_first"])
def test_a_refund_takes_back_its_tokens_whichever_webhook_is_handled_first(
    client: TestClient,
    agents: AgentTasks,
    api_key: dict[str, str],
    database: Database,
    customer: int,
    refund_first: bool,
) -> None:
    response = client.post("/api/v1/wallet/checkout", json={"tokens": 10_000}, headers=api_key)
    assert response.status_code == 201, response.text
    checkout = response.json()
    paid = session_event("checkout.session.completed", checkout, "paid")
    half = refund_event(checkout, checkout["amount"] // 2)
    for evt in [half, paid] if refund_first else [paid, half]:
        deliver(client, evt)
        agents.drain()
    assert balances(database, customer) == (5_000, 5_000)

    deliver(client, refund_event(checkout, checkout["amount"] // 2))  # Stripe reports it again
    deliver(client, refund_event(checkout, checkout["amount"]))  # then refunds the rest
    agents.drain()
    assert balances(database, customer) == (0, 0)
    with database.transaction() as session:
        levels = session.scalars(select(WalletRefund).order_by(WalletRefund.refunded_amount))
        assert [(r.refunded_amount, r.revoked_tokens, r.owed_tokens) for r in levels] == [
            (50, 5_000, 0),
            (100, 5_000, 0),
        ]
    assert approvals_of(database, CLAWBACK_ACTION) == []


def test_refunds_reported_before_the_credit_are_all_applied_when_it_lands(
    client: TestClient,
    agents: AgentTasks,
    api_key: dict[str, str],
    database: Database,
    customer: int,
) -> None:
    checkout = client.post(
        "/api/v1/wallet/checkout", json={"tokens": 10_000}, headers=api_key
    ).json()
    deliver(client, refund_event(checkout, 30))
    deliver(client, refund_event(checkout, checkout["amount"]))
    agents.drain()
    assert balances(database, customer) == (0, 0)  # nothing credited yet, nothing lost either

    deliver(client, session_event("checkout.session.completed", checkout, "paid"))
    agents.drain()
    assert balances(database, customer) == (0, 0)
    history = client.get("/api/v1/wallet/history", headers=api_key).json()["entries"]
    assert sorted((e["type"], e["tokens"]) for e in history) == [
        ("debit", -7_000),
        ("debit", -3_000),
        ("grant", 10_000),
    ]


def test_an_operator_opens_a_checkout_for_the_customer_it_names(
    client: TestClient, database: Database, customer: int
) -> None:
    with database.transaction() as session:
        create_operator(
            session, username="olga", password="a long passphrase", role=OPERATOR, actor="test"
        )
        _, token = issue_token(session, "olga", actor="test")
        create_operator(
            session, username="vic", password="a long passphrase", role=VIEWER, actor="test"
        )
        _, viewer = issue_token(session, "vic", actor="test")
    operator = {"Authorization": f"Bearer {token}"}

    response = client.post(
        "/api/v1/wallet/checkout",
        json={"tokens": 2_000, "customer": STRIPE_CUSTOMER},
        headers=operator,
    )
    assert response.status_code == 201, response.text
    checkout = response.json()
    assert (checkout["customer_id"], checkout["tokens"], checkout["amount"]) == (
        customer,
        2_000,
        20,
    )

    unnamed = client.post("/api/v1/wallet/checkout", json={"tokens": 2_000}, headers=operator)
    assert (unnamed.status_code, unnamed.json()["code"]) == (404, "missing_customer")
    unknown = client.post(
        "/api/v1/wallet/checkout",
        json={"tokens": 2_000, "customer": "cus_nobody"},
        headers=operator,
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_customer")
    as_viewer = client.post(
        "/api/v1/wallet/checkout",
        json={"tokens": 2_000, "customer": STRIPE_CUSTOMER},
        headers={"Authorization": f"Bearer {viewer}"},
    )
    assert as_viewer.status_code == 403


def test_an_operator_grant_waits_for_a_second_operator_then_credits_once(
    agents: AgentTasks, database: Database, settings: Settings, customer: int
) -> None:
    with database.transaction() as session:
        approval_id = request_grant(
            session,
            customer_id=customer,
            tokens=5_000,
            reason="goodwill after the outage",
            requested_by="alice",
            submit=submit,
            settings=settings,
        ).id
    agents.drain()
    assert balances(database, customer) == (0, 0)

    with pytest.raises(Forbidden), database.transaction() as session:
        decide(session, approval_id, operator="alice", approve=True, submit=submit)
    with database.transaction() as session:
        decide(session, approval_id, operator="bob", approve=True, note="ok", submit=submit)
        submit(session, "wallet.approval.resume", {"approval_id": approval_id})  # a redelivery
    agents.drain()

    [approval] = approvals_of(database, GRANT_ACTION)
    assert approval.status == ApprovalStatus.EXECUTED
    assert balances(database, customer) == (5_000, 5_000)
    with database.transaction() as session:
        grants = session.scalars(select(WalletGrant).where(WalletGrant.customer_id == customer))
        assert [(g.tokens, g.source, g.source_ref) for g in grants] == [
            (5_000, "operator", f"approval:{approval_id}")
        ]


def test_a_rejected_grant_credits_nothing(
    agents: AgentTasks, database: Database, settings: Settings, customer: int
) -> None:
    with database.transaction() as session:
        approval_id = request_grant(
            session,
            customer_id=customer,
            tokens=1_000,
            reason="asked nicely",
            requested_by="alice",
            submit=submit,
            settings=settings,
        ).id
    agents.drain()
    with database.transaction() as session:
        decide(session, approval_id, operator="bob", approve=False, note="no", submit=submit)
    agents.drain()
    assert balances(database, customer) == (0, 0)
    [approval] = approvals_of(database, GRANT_ACTION)
    assert approval.status == ApprovalStatus.REJECTED
