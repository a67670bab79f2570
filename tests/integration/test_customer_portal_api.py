"""GET /api/v1/portal and POST /api/v1/portal/stripe-session through the real app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.app import create_app
from core.clock import frozen
from core.settings import Settings
from db.models import Customer, Entitlement, Invoice, Payment, Subscription, UsageEvent
from db.session import Database
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.customer_api import register_and_login
from tools.stripe.sandbox import SandboxGateway

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
STARTED = datetime(2026, 6, 1, tzinfo=UTC)
PRO = {"api_calls": 500_000, "seats": 20, "projects": 50, "ai_tokens": 2_000_000}


@pytest.fixture
def sandbox(tmp_path: Path) -> SandboxGateway:
    return SandboxGateway(tmp_path / "stripe-sandbox.db")


@pytest.fixture
def api(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    sandbox: SandboxGateway,
) -> Iterator[TestClient]:
    app = create_app(Runtime(settings, database, redis_client, transport, {"stripe": sandbox}))
    yield TestClient(app)
    app.state.api_call_recorder.close()


def sign_up(api: TestClient, database: Database, email: str) -> tuple[dict[str, str], int]:
    headers = register_and_login(api, email)
    customer_id = int(api.get("/api/v1/users/me", headers=headers).json()["customer_id"])
    return headers, customer_id


def on_pro(database: Database, customer_id: int) -> None:
    """A Pro subscriber since June, with Pro's grants, as the billing and provisioning agents
    would have left them."""
    with database.transaction() as s:
        s.get(Customer, customer_id).created_at = STARTED  # type: ignore[union-attr]
        s.add(
            Subscription(
                stripe_subscription_id=f"sub_{uuid.uuid4().hex[:12]}",
                customer_id=customer_id,
                status="active",
                plan="pro",
                stripe_price_id=None,
                unit_amount=9900,
                currency="usd",
                interval="month",
                current_period_start=datetime(2026, 11, 1, tzinfo=UTC),
                current_period_end=datetime(2026, 12, 1, tzinfo=UTC),
                started_at=STARTED,
            )
        )
        for feature, limit in PRO.items():
            s.add(
                Entitlement(customer_id=customer_id, feature=feature, limit_value=limit, plan="pro")
            )


def use(database: Database, customer_id: int, metric: str, quantity: int, at: datetime) -> None:
    with database.transaction() as s:
        s.add(
            UsageEvent(
                customer_id=customer_id,
                metric=metric,
                quantity=Decimal(quantity),
                occurred_at=at,
                idempotency_key=uuid.uuid4().hex,
            )
        )


def portal(api: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    with frozen(NOW):
        answer = api.get("/api/v1/portal", headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_light_pro_user_sees_usage_payments_and_is_told_starter_saves(
    api: TestClient, database: Database
) -> None:
    headers, customer_id = sign_up(api, database, "ada@example.com")
    on_pro(database, customer_id)
    for month in (8, 9, 10):  # the three closed months before November
        at = datetime(2026, month, 10, tzinfo=UTC)
        use(database, customer_id, "api_calls", 40_000, at)  # 8% of Pro's 500,000
        use(database, customer_id, "ai_tokens", 200_000, at)  # 10% of Pro's 2,000,000
    use(database, customer_id, "api_calls", 125_000, NOW - timedelta(days=1))  # this month
    with database.transaction() as s:
        s.add(
            Invoice(
                stripe_invoice_id="in_oct",
                customer_id=customer_id,
                number="MON-0010",
                status="paid",
                amount_due=9900,
                amount_paid=9900,
                currency="usd",
                hosted_invoice_url="https://invoice.stripe.com/i/in_oct",
            )
        )
        s.add(
            Payment(
                stripe_charge_id="ch_oct",
                customer_id=customer_id,
                stripe_invoice_id="in_oct",
                amount=9900,
                currency="usd",
                status="succeeded",
                paid_at=datetime(2026, 10, 1, tzinfo=UTC),
            )
        )

    body = portal(api, headers)

    assert body["customer"] == {"id": customer_id, "email": "ada@example.com", "name": None}
    assert body["plan"] == {
        "key": "pro",
        "name": "Pro",
        "features": ["priority_support"],
        "limits": PRO,
    }
    assert (body["subscription"]["plan"], body["subscription"]["status"]) == ("pro", "active")
    calls = next(m for m in body["usage"]["meters"] if m["metric"] == "api_calls")
    assert body["usage"]["period"] == "2026-11"
    assert (calls["used"], calls["remaining"], calls["percent_used"]) == (
        "125000",
        "375000",
        "25.00",
    )
    assert calls["limit"]["limit"] == 500_000
    assert [(p["id"], p["amount"], p["invoice"]["number"]) for p in body["payments"]] == [
        ("ch_oct", 9900, "MON-0010")
    ]
    assert body["estimate"] is not None and body["estimate"]["lines"][0]["kind"] == "base"
    # Pro: 3 x 9,900 = 29,700. Starter fits (40,000 < 50,000 calls; 200,000 < 250,000 tokens):
    # 3 x 1,900 = 5,700. Free would bill overage: (39,000 calls x $0.05 + 190,000 tokens x
    # $0.10) / 1,000 = 195 + 1,900 = 2,095 a month, 6,285 in all: more than Starter.
    [advice] = body["recommendations"]
    assert advice["code"] == "downgrade_saves"
    assert advice["numbers"]["to_plan"] == "starter"
    assert (advice["numbers"]["cost_staying"], advice["numbers"]["cost_switching"]) == (
        29_700,
        5_700,
    )
    assert advice["numbers"]["months"] == ["2026-08", "2026-09", "2026-10"]
    assert advice["message"].startswith(
        "You used under 20% of Pro's API calls, seats and AI tokens"
    )


def test_a_plan_held_for_under_three_months_gets_no_advice(
    api: TestClient, database: Database
) -> None:
    headers, customer_id = sign_up(api, database, "bea@example.com")
    on_pro(database, customer_id)
    with database.transaction() as s:
        s.execute(update(Subscription).values(started_at=datetime(2026, 9, 15, tzinfo=UTC)))
    assert portal(api, headers)["recommendations"] == []  # idle since September, but too new


def test_a_new_customer_is_on_the_free_plan_without_estimate_or_payments(
    api: TestClient, database: Database
) -> None:
    headers, _ = sign_up(api, database, "cy@example.com")
    body = portal(api, headers)
    assert (body["plan"]["key"], body["plan"]["name"]) == ("free", "Free")
    assert body["plan"]["limits"]["api_calls"] == 1000
    assert (body["subscription"], body["estimate"], body["payments"]) == (None, None, [])
    assert body["recommendations"] == []


def test_the_portal_needs_a_customer_token(api: TestClient) -> None:
    assert api.get("/api/v1/portal").status_code == 401


def test_a_stripe_portal_session_for_a_stripe_customer(
    api: TestClient, database: Database, sandbox: SandboxGateway, settings: Settings
) -> None:
    headers, customer_id = sign_up(api, database, "di@example.com")
    with database.transaction() as s:
        s.get(Customer, customer_id).stripe_customer_id = "cus_di"  # type: ignore[union-attr]
    sandbox.put("customer", {"id": "cus_di", "object": "customer"})

    with frozen(NOW):
        first = api.post("/api/v1/portal/stripe-session", headers=headers)
        again = api.post("/api/v1/portal/stripe-session", headers=headers)
        elsewhere = api.post(
            "/api/v1/portal/stripe-session",
            headers=headers,
            json={"return_url": "https://app.example.com/billing"},
        )
    with frozen(NOW + timedelta(minutes=5)):
        later = api.post("/api/v1/portal/stripe-session", headers=headers)
    assert first.status_code == 200, first.text
    session = first.json()
    assert session["url"].startswith("https://billing.stripe.com/p/session/")
    assert session["return_url"] == settings.portal_return_url
    assert again.json() == session  # a double click: the same session (same idempotency key)
    assert elsewhere.json()["return_url"] == "https://app.example.com/billing"
    assert len({session["id"], elsewhere.json()["id"], later.json()["id"]}) == 3
    stored = sandbox.get("billing_portal.session", session["id"])
    assert stored is not None and stored["customer"] == "cus_di"


def test_no_stripe_customer_is_a_conflict_and_a_bad_return_url_is_refused(
    api: TestClient, database: Database
) -> None:
    headers, _ = sign_up(api, database, "eve@example.com")
    none = api.post("/api/v1/portal/stripe-session", headers=headers)
    assert (none.status_code, none.json()["code"]) == (409, "no_stripe_customer")
    bad = api.post(
        "/api/v1/portal/stripe-session", headers=headers, json={"return_url": "javascript:alert(1)"}
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_failed")
