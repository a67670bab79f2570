"""GET /api/v1/products and POST /api/v1/checkout-sessions through the real app and sandbox."""

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
from db.models import Customer, CustomerTrial, Subscription
from db.session import Database
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.customer_api import register_and_login
from tools.stripe.sandbox import SandboxGateway

CATALOG = """
products:
  - key: pro
    name: Pro
    type: subscription
    features: {priority_support: true}
    limits: {api_calls: 500000}
    prices:
      - {key: pro_monthly, currency: usd, revenue_model: recurring, unit_amount: 9900,
         interval: month, trial_days: 14}
      - {key: pro_legacy, currency: usd, revenue_model: recurring, unit_amount: 7900,
         interval: month, lifecycle: retired}
      - {key: pro_monthly_eur, currency: eur, revenue_model: recurring, unit_amount: 8900,
         interval: month}
  - key: enterprise
    name: Enterprise
    type: subscription
    contact_sales: true
  - key: pack
    name: Token pack
    type: service
    prices:
      - {key: pack_1m, currency: usd, revenue_model: fixed, unit_amount: 10000}
"""
DISCOUNTS = """
coupons:
  - {key: pack10, name: 10% off packs, percent_off: 10, duration: once, applies_to: [pack]}
  - {key: pro20, name: 20% off Pro, percent_off: 20, duration: once, applies_to: [pro]}
promotion_codes:
  - {code: PACK10, coupon: pack10}
  - {code: PRO20, coupon: pro20}
"""


@pytest.fixture
def shop(
    settings: Settings,
    database: Database,
    redis_client: Any,
    transport: StreamTransport,
    tmp_path: Path,
) -> Iterator[tuple[TestClient, SandboxGateway, Settings]]:
    """The app over a synced test catalog and discounts, with the sandbox as Stripe."""
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    (tmp_path / "discounts.yaml").write_text(DISCOUNTS)
    chosen = settings.model_copy(
        update={
            "catalog_file": tmp_path / "catalog.yaml",
            "discounts_file": tmp_path / "discounts.yaml",
        }
    )
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    sync_catalog(database, sandbox, load_catalog(chosen.catalog_file))
    sync_discounts(database, sandbox, load_discounts(chosen.discounts_file, chosen.catalog_file))
    app = create_app(Runtime(chosen, database, redis_client, transport, {"stripe": sandbox}))
    yield TestClient(app, base_url="https://testserver"), sandbox, chosen
    app.state.api_call_recorder.close()


def checkout(api: TestClient, auth: dict[str, str], **body: Any) -> Any:
    headers = {**auth, **body.pop("headers", {})}
    return api.post("/api/v1/checkout-sessions", json=body, headers=headers)


def customer_of(database: Database, email: str) -> Customer:
    with database.transaction() as s:
        return s.scalars(select(Customer).where(Customer.email == email)).one()


def test_products_are_public_and_list_only_what_is_offered(
    shop: tuple[TestClient, SandboxGateway, Settings],
) -> None:
    api, _, _ = shop
    answer = api.get("/api/v1/products")
    assert answer.status_code == 200, answer.text
    products = {p["key"]: p for p in answer.json()["products"]}
    assert list(products) == ["pro", "enterprise", "pack"]
    pro = products["pro"]
    assert [p["key"] for p in pro["prices"]] == ["pro_monthly", "pro_monthly_eur"]
    monthly = pro["prices"][0]
    assert (monthly["unit_amount"], monthly["formatted"], monthly["trial_days"]) == (
        9900,
        "USD 99.00 / month",
        14,
    )
    assert (pro["features"], pro["limits"]) == ({"priority_support": True}, {"api_calls": 500000})
    assert products["enterprise"]["contact_sales"] is True
    assert products["enterprise"]["prices"] == []


def test_checkout_opens_a_subscription_session_with_trial_and_reference(
    shop: tuple[TestClient, SandboxGateway, Settings], database: Database
) -> None:
    api, sandbox, _ = shop
    auth = register_and_login(api, "ada@example.com")
    opened = checkout(api, auth, price="pro_monthly")
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert (body["mode"], body["plan"], body["trial_days"]) == ("subscription", "pro", 14)
    customer = customer_of(database, "ada@example.com")
    assert customer.stripe_customer_id is not None
    stripe_customer = sandbox.get("customer", customer.stripe_customer_id)
    assert stripe_customer is not None and stripe_customer["email"] == "ada@example.com"
    session = sandbox.get("checkout_session", body["session_id"])
    assert session is not None and session["url"] == body["url"]
    assert (session["client_reference_id"], session["customer"]) == (
        str(customer.id),
        customer.stripe_customer_id,
    )
    assert (session["amount_total"], session["currency"]) == (9900, "usd")
    with database.transaction() as s:
        trial = s.scalars(select(CustomerTrial)).one()
        assert (trial.customer_id, trial.source, trial.trial_days) == (customer.id, "checkout", 14)


def test_the_same_idempotency_key_returns_the_same_session(
    shop: tuple[TestClient, SandboxGateway, Settings], database: Database
) -> None:
    api, sandbox, _ = shop
    auth = register_and_login(api, "ada@example.com")
    first = checkout(api, auth, price="pro_monthly", headers={"Idempotency-Key": "k1"})
    again = checkout(api, auth, price="pro_monthly", headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201, again.text
    assert first.json()["session_id"] == again.json()["session_id"]
    other = checkout(api, auth, price="pro_monthly", headers={"Idempotency-Key": "k2"})
    assert other.status_code == 409 and other.json()["code"] == "trial_already_used"
    without_trial = checkout(
        api, auth, price="pro_monthly", trial=False, headers={"Idempotency-Key": "k3"}
    )
    assert without_trial.status_code == 201, without_trial.text
    assert without_trial.json()["trial_days"] is None
    session = sandbox.get("checkout_session", without_trial.json()["session_id"])
    assert session is not None and session["customer"] == first_customer(database)


def first_customer(database: Database) -> str | None:
    return customer_of(database, "ada@example.com").stripe_customer_id


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"price": "gold"}, 404, "unknown_price"),
        ({"price": "pro_legacy"}, 422, "price_not_offered"),
        ({"price": "enterprise"}, 422, "contact_sales"),
        ({"price": "pro_monthly", "quantity": 0}, 422, "bad_quantity"),
        ({"price": "pro_monthly", "quantity": -3}, 422, "bad_quantity"),
        ({"price": "pro_monthly", "quantity": 1_000_000}, 422, "bad_quantity"),
        ({"price": "pro_monthly", "promotion_code": "NOPE"}, 422, "unknown_code"),
        ({"price": "pro_monthly", "promotion_code": "PACK10"}, 422, "not_for_plan"),
    ],
)
def test_bad_checkouts_are_refused_with_a_code_and_leave_nothing_behind(
    shop: tuple[TestClient, SandboxGateway, Settings],
    database: Database,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    api, _, _ = shop
    auth = register_and_login(api, "ada@example.com")
    refused = checkout(api, auth, **body)
    assert refused.status_code == status, refused.text
    assert refused.json()["code"] == code
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert customer_of(database, "ada@example.com").stripe_customer_id is None
    with database.transaction() as s:
        assert s.scalars(select(CustomerTrial)).all() == []


def test_a_price_in_another_currency_than_the_subscriptions_is_refused(
    shop: tuple[TestClient, SandboxGateway, Settings], database: Database
) -> None:
    api, _, _ = shop
    auth = register_and_login(api, "ada@example.com")
    customer = customer_of(database, "ada@example.com")
    with database.transaction() as s:
        s.add(
            Subscription(
                stripe_subscription_id="sub_eur",
                customer_id=customer.id,
                status="active",
                plan="pro",
                currency="eur",
            )
        )
    refused = checkout(api, auth, price="pro_monthly", trial=False)
    assert refused.status_code == 422 and refused.json()["code"] == "currency_mismatch"
    allowed = checkout(api, auth, price="pro_monthly_eur")
    assert allowed.status_code == 201, allowed.text


def test_a_valid_promotion_code_goes_to_stripe_as_its_synced_id(
    shop: tuple[TestClient, SandboxGateway, Settings],
) -> None:
    api, sandbox, _ = shop
    auth = register_and_login(api, "ada@example.com")
    opened = checkout(api, auth, price="pack_1m", promotion_code="pack10")
    assert opened.status_code == 201, opened.text
    assert opened.json()["mode"] == "payment"
    with sandbox._connect() as db:
        [(request,)] = db.execute(
            "SELECT request FROM idempotency_keys WHERE key LIKE 'checkout:%'"
        ).fetchall()
    assert '"discounts": [{"promotion_code": "promo_' in request


def test_checkout_needs_a_signed_in_customer(
    shop: tuple[TestClient, SandboxGateway, Settings],
) -> None:
    api, _, _ = shop
    answer = api.post("/api/v1/checkout-sessions", json={"price": "pro_monthly"})
    assert answer.status_code == 401
