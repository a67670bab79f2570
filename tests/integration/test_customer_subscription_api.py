"""GET|PATCH|DELETE /api/v1/subscription through the real app: previews change nothing, every
bad input is a 4xx problem with its code and leaves no change row and no task behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agents.catalog.loader import DEFAULT_CATALOG
from api.app import create_app
from core.settings import Settings
from db.models import CustomerAccount, SubscriptionChange, Task, UsageEvent
from db.session import Database
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.customer_api import register_and_login
from tests.support.subscriptions import seed_subscription, seed_synced_prices

NOW = datetime.now(UTC).replace(microsecond=0)
PERIOD = (NOW - timedelta(days=10), NOW + timedelta(days=20))
STRIPE_IDS = {"starter_monthly": "price_starter_m", "pro_monthly": "price_pro_m"}


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    """The shipped catalog plus a retired Pro price and a Pro price in euros."""
    data = yaml.safe_load(DEFAULT_CATALOG.read_text())
    pro = next(product for product in data["products"] if product["key"] == "pro")
    pro["prices"] += [
        {"key": "pro_legacy", "currency": "usd", "revenue_model": "recurring",
         "unit_amount": 7900, "interval": "month", "lifecycle": "retired"},
        {"key": "pro_eur", "currency": "eur", "revenue_model": "recurring",
         "unit_amount": 8900, "interval": "month"},
    ]  # fmt: skip
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def client(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    catalog_file: Path,
) -> Iterator[TestClient]:
    configured = settings.model_copy(update={"catalog_file": catalog_file})
    runtime = Runtime(configured, database, redis_client, transport, {})
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    return register_and_login(client, "sam@example.com")


@pytest.fixture
def customer_id(database: Database, auth: dict[str, str]) -> int:
    with database.transaction() as session:
        return session.scalars(
            select(CustomerAccount.customer_id).where(CustomerAccount.email == "sam@example.com")
        ).one()


def subscribe(
    database: Database, customer_id: int, *, status: str = "active", price: str = "price_starter_m"
) -> None:
    seed_synced_prices(database, STRIPE_IDS)
    seed_subscription(
        database,
        stripe_customer_id="cus_sam",
        stripe_subscription_id="sub_sam",
        stripe_price_id=price,
        plan=price,
        unit_amount=1_900 if price == "price_starter_m" else 9_900,
        period=PERIOD,
        status=status,
        customer_id=customer_id,
    )


def recorded(database: Database) -> tuple[int, int]:
    """(change rows, subscription.change tasks)."""
    with database.transaction() as session:
        changes = session.scalar(select(func.count()).select_from(SubscriptionChange))
        tasks = session.scalar(
            select(func.count()).select_from(Task).where(Task.kind == "subscription.change")
        )
        return int(changes or 0), int(tasks or 0)


def test_get_shows_plan_status_and_period(
    client: TestClient, database: Database, auth: dict[str, str], customer_id: int
) -> None:
    subscribe(database, customer_id)
    body = client.get("/api/v1/subscription", headers=auth).json()
    assert (body["price"], body["status"], body["amount"], body["currency"]) == (
        "starter_monthly",
        "active",
        1_900,
        "usd",
    )
    assert body["current_period_end"].startswith(PERIOD[1].date().isoformat())
    assert body["pending_change"] is None


def test_no_subscription_and_no_token(client: TestClient, auth: dict[str, str]) -> None:
    missing = client.get("/api/v1/subscription", headers=auth)
    assert (missing.status_code, missing.json()["code"]) == (404, "no_subscription")
    assert client.get("/api/v1/subscription").status_code == 401


def test_patch_preview_answers_the_money_and_records_nothing(
    client: TestClient, database: Database, auth: dict[str, str], customer_id: int
) -> None:
    subscribe(database, customer_id)
    answer = client.patch(
        "/api/v1/subscription?preview=true", json={"price": "pro_monthly"}, headers=auth
    )
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    credit, charge = (line["amount"] for line in preview["lines"])
    assert preview["action"] == "upgrade" and credit < 0 < charge
    assert preview["next_invoice_amount"] == 9_900 + credit + charge
    assert recorded(database) == (0, 0)


def test_patch_records_the_change_once_per_idempotency_key(
    client: TestClient, database: Database, auth: dict[str, str], customer_id: int
) -> None:
    subscribe(database, customer_id)
    headers = {**auth, "Idempotency-Key": "req-1"}
    first = client.patch("/api/v1/subscription", json={"price": "pro_monthly"}, headers=headers)
    again = client.patch("/api/v1/subscription", json={"price": "pro_monthly"}, headers=headers)
    assert first.status_code == 202, first.text
    assert again.json()["id"] == first.json()["id"]
    assert (first.json()["action"], first.json()["status"]) == ("upgrade", "requested")
    assert recorded(database) == (1, 1)


def test_downgrade_shows_as_the_pending_change(
    client: TestClient, database: Database, auth: dict[str, str], customer_id: int
) -> None:
    subscribe(database, customer_id, price="price_pro_m")
    answer = client.patch("/api/v1/subscription", json={"price": "starter_monthly"}, headers=auth)
    assert answer.status_code == 202, answer.text
    pending = client.get("/api/v1/subscription", headers=auth).json()["pending_change"]
    assert (pending["action"], pending["to_price"]) == ("downgrade", "starter_monthly")
    assert pending["effective_at"].startswith(PERIOD[1].date().isoformat())


def test_cancel_now_preview_shows_the_refund_and_delete_records_it(
    client: TestClient, database: Database, auth: dict[str, str], customer_id: int
) -> None:
    subscribe(database, customer_id)
    preview = client.delete(
        "/api/v1/subscription?at_period_end=false&preview=true", headers=auth
    ).json()
    assert preview["action"] == "cancel_now" and preview["refund_amount"] == 0  # nothing paid
    assert -preview["lines"][0]["amount"] == pytest.approx(1_900 * 20 / 30, abs=1)
    assert recorded(database) == (0, 0)
    answer = client.delete("/api/v1/subscription", headers=auth)
    assert (answer.status_code, answer.json()["action"]) == (202, "cancel_at_period_end")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("PATCH", "/api/v1/subscription", {"price": "gold_monthly"}, 422, "unknown_price"),
        ("PATCH", "/api/v1/subscription", {"price": "pro_legacy"}, 422, "price_not_offered"),
        ("PATCH", "/api/v1/subscription", {"price": "ai_tokens_1m"}, 422, "price_not_offered"),
        ("PATCH", "/api/v1/subscription", {"price": "pro_eur"}, 422, "currency_mismatch"),
        ("PATCH", "/api/v1/subscription", {"price": "starter_monthly"}, 409, "no_change"),
        ("PATCH", "/api/v1/subscription", {"quantity": 0}, 422, "invalid_quantity"),
        ("PATCH", "/api/v1/subscription", {"quantity": 10_001}, 422, "invalid_quantity"),
        ("PATCH", "/api/v1/subscription?preview=true", {"quantity": -3}, 422, "invalid_quantity"),
        ("POST", "/api/v1/subscription/resume", None, 409, "no_change"),
    ],
)  # fmt: skip
def test_bad_input_is_a_problem_with_its_code_and_changes_nothing(
    client: TestClient,
    database: Database,
    auth: dict[str, str],
    customer_id: int,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    code: str,
) -> None:
    subscribe(database, customer_id)
    answer = client.request(method, path, json=body, headers=auth)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert recorded(database) == (0, 0)


def test_downgrade_below_current_usage_is_refused(
    client: TestClient, database: Database, auth: dict[str, str], customer_id: int
) -> None:
    subscribe(database, customer_id, price="price_pro_m")
    with database.transaction() as session:
        session.add(
            UsageEvent(
                customer_id=customer_id,
                metric="api_calls",
                quantity=Decimal(60_000),  # Starter allows 50,000 a month
                occurred_at=NOW,
                idempotency_key="usage-1",
            )
        )
    answer = client.patch("/api/v1/subscription", json={"price": "starter_monthly"}, headers=auth)
    assert (answer.status_code, answer.json()["code"]) == (422, "below_current_usage")
    assert "api_calls" in answer.json()["detail"]
    assert recorded(database) == (0, 0)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/api/v1/subscription", {"price": "pro_monthly"}),
        ("DELETE", "/api/v1/subscription", None),
        ("POST", "/api/v1/subscription/pause", None),
    ],
)
def test_a_canceled_subscription_cannot_change(
    client: TestClient,
    database: Database,
    auth: dict[str, str],
    customer_id: int,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    subscribe(database, customer_id, status="canceled")
    answer = client.request(method, path, json=body, headers=auth)
    assert (answer.status_code, answer.json()["code"]) == (409, "subscription_not_active")
    assert recorded(database) == (0, 0)


def test_pause_is_accepted_then_a_second_pause_waits_for_the_first(
    client: TestClient, database: Database, auth: dict[str, str], customer_id: int
) -> None:
    subscribe(database, customer_id)
    first = client.post("/api/v1/subscription/pause", headers=auth)
    second = client.post("/api/v1/subscription/pause", headers={**auth, "Idempotency-Key": "x"})
    assert (first.status_code, first.json()["action"]) == (202, "pause")
    assert (second.status_code, second.json()["code"]) == (409, "change_in_progress")
    assert recorded(database) == (1, 1)
