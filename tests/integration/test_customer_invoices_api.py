"""GET /api/v1/invoices (paged, with lines), /api/v1/invoices/{id} and /api/v1/billing/estimate
through the real app, as a signed-in customer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from core.clock import frozen
from core.settings import Settings
from db.models import Customer, Invoice, InvoiceLine, Subscription
from db.session import Database
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.customer_api import register_and_login

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def client(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> Iterator[TestClient]:
    runtime = Runtime(settings, database, redis_client, transport, {})
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def signed_in(client: TestClient, email: str) -> tuple[dict[str, str], int]:
    headers = register_and_login(client, email)
    me = client.get("/api/v1/users/me", headers=headers)
    assert me.status_code == 200, me.text
    return headers, int(me.json()["customer_id"])


def add_invoice(session: Session, customer_id: int, number: int, lines: int = 1) -> None:
    invoice_id = f"in_{customer_id}_{number}"
    session.add(
        Invoice(
            stripe_invoice_id=invoice_id,
            customer_id=customer_id,
            number=f"N-{number:04d}",
            status="paid",
            amount_due=9900,
            amount_paid=9900,
            currency="usd",
            subtotal=9900,
            total_discount=0,
            tax=0,
            total=9900,
            hosted_invoice_url=f"https://invoice.stripe.com/i/{invoice_id}",
        )
    )
    for position in range(lines):
        session.add(
            InvoiceLine(
                stripe_line_id=f"il_{invoice_id}_{position}",
                stripe_invoice_id=invoice_id,
                position=position,
                description=f"line {position}",
                amount=9900 if position == 0 else 0,
                currency="usd",
                quantity=1,
                proration=False,
                discount_amount=0,
                tax_amount=0,
            )
        )
    session.flush()


def test_invoices_are_listed_newest_first_with_lines_and_paged(
    client: TestClient, database: Database
) -> None:
    headers, customer_id = signed_in(client, "ada@example.com")
    _, other_id = signed_in(client, "bob@example.com")
    with database.transaction() as session:
        for number in range(1, 4):
            add_invoice(session, customer_id, number, lines=2)
        add_invoice(session, other_id, 1)

    first = client.get("/api/v1/invoices", params={"limit": 2}, headers=headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [i["number"] for i in page["data"]] == ["N-0003", "N-0002"] and page["has_more"]
    assert [line["description"] for line in page["data"][0]["lines"]] == ["line 0", "line 1"]
    assert page["data"][0]["total"] == 9900
    cursor = page["data"][-1]["id"]
    rest = client.get(
        "/api/v1/invoices", params={"limit": 2, "starting_after": cursor}, headers=headers
    ).json()
    assert [i["number"] for i in rest["data"]] == ["N-0001"] and rest["has_more"] is False

    one = client.get(f"/api/v1/invoices/in_{customer_id}_2", headers=headers)
    assert one.status_code == 200 and len(one.json()["lines"]) == 2


def test_someone_elses_invoice_and_bad_paging_are_clear_4xx(
    client: TestClient, database: Database
) -> None:
    headers, _ = signed_in(client, "ada@example.com")
    _, other_id = signed_in(client, "bob@example.com")
    with database.transaction() as session:
        add_invoice(session, other_id, 1)

    theirs = client.get(f"/api/v1/invoices/in_{other_id}_1", headers=headers)
    assert theirs.status_code == 404 and theirs.json()["code"] == "unknown_invoice"
    cursor = client.get(
        "/api/v1/invoices", params={"starting_after": f"in_{other_id}_1"}, headers=headers
    )
    assert cursor.status_code == 404 and cursor.json()["code"] == "unknown_invoice"
    assert client.get("/api/v1/invoices", params={"limit": 0}, headers=headers).status_code == 422
    assert client.get("/api/v1/invoices").status_code == 401


def test_estimate_endpoint_returns_the_next_invoice_line_by_line(
    client: TestClient, database: Database
) -> None:
    headers, customer_id = signed_in(client, "ada@example.com")
    missing = client.get("/api/v1/billing/estimate", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "no_upcoming_invoice"

    with database.transaction() as session:
        assert session.get(Customer, customer_id) is not None
        session.add(
            Subscription(
                stripe_subscription_id="sub_api",
                customer_id=customer_id,
                status="active",
                plan="pro_monthly",
                quantity=1,
                unit_amount=9900,
                currency="usd",
                interval="month",
                interval_count=1,
                discount_amount_off=1000,
                current_period_start=NOW - timedelta(days=10),
                current_period_end=NOW + timedelta(days=20),
            )
        )
    with frozen(NOW):
        response = client.get("/api/v1/billing/estimate", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    # No tax profile: untaxed. 9900 - 1000 = 8900.
    assert [(line["kind"], line["amount"]) for line in body["lines"]] == [
        ("base", 9900),
        ("discount", -1000),
    ]
    assert (body["subtotal"], body["discount"], body["tax"], body["total"]) == (9900, 1000, 0, 8900)
    assert body["currency"] == "usd" and body["tax_note"]
