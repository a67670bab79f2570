"""The console customer page: refund requests by operators, the token wallet at a glance."""

from __future__ import annotations

import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from core.settings import Settings
from db.models import Approval, ApprovalStatus
from db.session import Database
from orchestrator.access.roles import OPERATOR, VIEWER
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.operators import console_csrf, console_login, make_operator
from tests.support.refunds import seed_paid_customer
from tests.support.wallets import customer_with_tokens


def _client(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    who: str,
) -> TestClient:
    app = create_app(Runtime(settings, database, redis_client, transport, {}))
    client = TestClient(app, base_url="https://testserver")
    assert console_login(client, who) == 303
    return client


def test_operator_requests_a_refund_in_dollars_and_it_waits_for_approval(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
) -> None:
    paid = seed_paid_customer(database, amount=4_500)
    make_operator(database, "omar", OPERATOR)
    client = _client(settings, database, redis_client, transport, "omar")
    page = client.get(f"/console/customers/{paid.customer_id}")
    assert "Request refund" in page.text

    done = client.post(
        f"/console/customers/{paid.customer_id}/refunds",
        data={
            "payment_id": paid.payment_id,
            "amount": "12.50",
            "reason": "late delivery",
            "csrf_token": console_csrf(client),
        },
        follow_redirects=False,
    )

    assert done.status_code == 303 and "done=requested" in done.headers["location"]
    with database.transaction() as s:
        approval = s.scalars(select(Approval)).one()
        assert (approval.amount, approval.status, approval.requested_by, approval.reason) == (
            1250,
            ApprovalStatus.PENDING,
            "omar",
            "late delivery",
        )


def test_bad_amounts_and_viewers_create_nothing(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
) -> None:
    paid = seed_paid_customer(database, amount=4_500)
    make_operator(database, "omar", OPERATOR)
    make_operator(database, "vera", VIEWER)
    client = _client(settings, database, redis_client, transport, "omar")
    url = f"/console/customers/{paid.customer_id}/refunds"
    for amount, status in (("12.505", 422), ("-3", 422), ("99.00", 409)):
        reply = client.post(
            url,
            data={
                "payment_id": paid.payment_id,
                "amount": amount,
                "reason": "x",
                "csrf_token": console_csrf(client),
            },
        )
        assert reply.status_code == status, (amount, reply.status_code)

    viewer = _client(settings, database, redis_client, transport, "vera")
    assert "Request refund" not in viewer.get(f"/console/customers/{paid.customer_id}").text
    refused = viewer.post(
        url,
        data={
            "payment_id": paid.payment_id,
            "amount": "1.00",
            "reason": "x",
            "csrf_token": console_csrf(viewer),
        },
    )
    assert refused.status_code == 403
    with database.transaction() as s:
        assert s.scalars(select(Approval)).all() == []


def test_customer_page_shows_the_token_wallet(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
) -> None:
    customer_id = customer_with_tokens(database, 12_500)
    make_operator(database, "vera", VIEWER)
    client = _client(settings, database, redis_client, transport, "vera")
    page = client.get(f"/console/customers/{customer_id}").text
    assert "AI-token wallet" in page and "12,500" in page and "+12,500" in page
