"""POST /api/v1/discounts/validate through the real app: anonymous and signed-in callers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from agents.catalog.loader import load_catalog
from agents.catalog.sync import sync_catalog
from agents.discounts.loader import load_discounts
from agents.discounts.sync import sync_discounts
from api.app import create_app
from core.settings import Settings
from db.models import Customer, Invoice
from db.session import Database
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.customer_api import register_and_login
from tools.stripe.sandbox import SandboxGateway

DISCOUNTS = """
coupons:
  - {key: pro20, name: 20% off Pro, percent_off: 20, duration: repeating,
     duration_in_months: 3, applies_to: [pro]}
  - {key: tenoff, amount_off: 1000, currency: usd, duration: once}
  - {key: newbie, percent_off: 12.5, duration: once, first_time_only: true}
  - {key: gone, percent_off: 10, duration: once, redeem_by: 2020-01-01T00:00:00Z}
promotion_codes:
  - {code: PRO20, coupon: pro20}
  - {code: TENOFF, coupon: tenoff}
  - {code: NEWBIE, coupon: newbie}
  - {code: OLD, coupon: gone}
"""


@pytest.fixture
def api(
    settings: Settings,
    database: Database,
    redis_client: Any,
    transport: StreamTransport,
    tmp_path: Path,
) -> Iterator[TestClient]:
    (tmp_path / "discounts.yaml").write_text(DISCOUNTS)
    chosen = settings.model_copy(update={"discounts_file": tmp_path / "discounts.yaml"})
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    sync_catalog(database, sandbox, load_catalog(chosen.catalog_file))
    sync_discounts(database, sandbox, load_discounts(chosen.discounts_file, chosen.catalog_file))
    app = create_app(Runtime(chosen, database, redis_client, transport, {"stripe": sandbox}))
    yield TestClient(app, base_url="https://testserver")
    app.state.api_call_recorder.close()


def validate(api: TestClient, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return api.post("/api/v1/discounts/validate", json=body, headers=headers or {})


def test_anonymous_check_gives_the_discount_and_its_amount_for_a_price(api: TestClient) -> None:
    response = validate(api, code="pro20", price="pro_monthly")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["valid"], body["reason"], body["code"]) == (True, None, "PRO20")
    assert body["discount"]["percent_off"] == "20"
    assert (body["discount"]["duration"], body["discount"]["duration_in_months"]) == (
        "repeating",
        3,
    )
    assert body["amount_off"] == {"amount": 1980, "currency": "usd", "formatted": "USD 19.80"}
    assert not body["customer_checked"] and "not signed in" in body["note"]


def test_an_amount_off_is_capped_at_the_price(api: TestClient) -> None:
    body = validate(api, code="TENOFF", price="starter_monthly").json()
    assert body["amount_off"]["amount"] == 1000
    assert validate(api, code="TENOFF").json()["amount_off"] is None  # no price, no amount


def test_refused_codes_say_why(api: TestClient) -> None:
    for code, price, reason in [
        ("NOPE", None, "unknown_code"),
        ("OLD", None, "expired"),
        ("PRO20", "starter_monthly", "not_for_plan"),
    ]:
        body = validate(api, code=code, price=price).json()
        assert (body["valid"], body["reason"], body["discount"]) == (False, reason, None)


def test_signed_in_a_returning_customer_is_refused_a_first_time_code(
    api: TestClient, database: Database
) -> None:
    auth = register_and_login(api, "returning@example.com")
    first = validate(api, auth, code="NEWBIE", price="pro_monthly").json()
    assert first["valid"] and first["customer_checked"] and first["note"] is None
    assert first["amount_off"]["amount"] == 1238  # 12.5% of 99.00 = 12.375 -> 12.38
    with database.transaction() as session:
        customer = session.scalars(
            select(Customer).where(Customer.email == "returning@example.com")
        ).one()
        session.add(
            Invoice(
                stripe_invoice_id="in_api_paid",
                customer_id=customer.id,
                status="paid",
                amount_paid=9900,
                currency="usd",
            )
        )
    again = validate(api, auth, code="NEWBIE", price="pro_monthly").json()
    assert (again["valid"], again["reason"]) == (False, "first_time_only")


def test_bad_requests_are_problem_details(api: TestClient) -> None:
    unknown = validate(api, code="PRO20", price="platinum")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_price"
    assert validate(api, code="").status_code == 422
    forged = validate(api, {"Authorization": "Bearer nope"}, code="PRO20")
    assert forged.status_code == 401
