"""Paying an offline sandbox checkout: its page, the form, the events and what billing mirrors."""

from __future__ import annotations

import re
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
from api.sandbox.checkout_page import webhook_client
from core.settings import Settings
from db.models import Invoice, Payment, StripeEvent, Subscription, Task, TaskStatus
from db.session import Database
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.integration.test_billing_events import Billing
from tests.support.customer_api import register_and_login
from tools.stripe.sandbox import SandboxGateway

SUCCESS = "https://shop.example/thanks"


class Shop:
    def __init__(
        self, api: TestClient, sandbox: SandboxGateway, database: Database, billing: Billing
    ):
        self.api, self.sandbox, self.database, self.billing = api, sandbox, database, billing

    def checkout(self, email: str, **body: Any) -> dict[str, Any]:
        auth = register_and_login(self.api, email)
        body = {"quantity": 1, "success_url": SUCCESS, "cancel_url": SUCCESS, **body}
        opened = self.api.post("/api/v1/checkout-sessions", json=body, headers=auth)
        assert opened.status_code == 201, opened.text
        return opened.json()  # type: ignore[no-any-return]

    def form_token(self, url: str) -> str:
        page = self.api.get(url)
        assert page.status_code == 200, page.text
        token = re.search(r'name="form_token" value="([^"]+)"', page.text)
        assert token is not None, page.text
        return token.group(1)

    def pay(self, url: str, token: str | None = None) -> Any:
        data = {"form_token": token or self.form_token(url)}
        return self.api.post(f"{url}/pay", data=data, follow_redirects=False)

    def run_billing(self) -> None:
        """Run every queued task of the delivered events, as a worker would."""
        with self.database.transaction() as s:
            ids = s.scalars(
                select(Task.id).where(Task.dedupe_key.like("stripe-event:%")).order_by(Task.id)
            ).all()
        for task_id in ids:
            assert self.billing.run(task_id).status == TaskStatus.DONE


@pytest.fixture
def shop(
    settings: Settings,
    database: Database,
    redis_client: Any,
    transport: StreamTransport,
    tmp_path: Path,
) -> Iterator[Shop]:
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    sandbox.checkout_page_base = "http://testserver"
    sync_catalog(database, sandbox, load_catalog())
    sync_discounts(database, sandbox, load_discounts())
    app = create_app(Runtime(settings, database, redis_client, transport, {"stripe": sandbox}))
    api = TestClient(app)
    app.dependency_overrides[webhook_client] = lambda: api  # deliver in-process
    yield Shop(api, sandbox, database, Billing(database, settings, sandbox))  # type: ignore[arg-type]
    app.state.api_call_recorder.close()


def test_paying_a_trial_checkout_mirrors_a_trialing_subscription_and_a_zero_invoice(
    shop: Shop, database: Database
) -> None:
    opened = shop.checkout("ada@example.com", price="pro_monthly", promotion_code="WELCOME20")
    assert opened["url"] == f"http://testserver/sandbox/checkout/{opened['session_id']}"
    page = shop.api.get(opened["url"]).text
    for shown in ("Pro", "USD 99.00", "14 days", "WELCOME20", "20% off", "USD 79.20", "USD 0.00"):
        assert shown in page

    paid = shop.pay(opened["url"])
    assert (paid.status_code, paid.headers["location"]) == (303, SUCCESS)
    session = shop.sandbox.get("checkout_session", opened["session_id"])
    assert session is not None
    assert (session["status"], session["payment_status"]) == ("complete", "no_payment_required")
    with database.transaction() as s:
        types = sorted(s.scalars(select(StripeEvent.type)).all())
    assert types == sorted(
        [
            "customer.subscription.created",
            "invoice.created",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_succeeded",
            "checkout.session.completed",
        ]
    )
    shop.run_billing()
    with database.transaction() as s:
        sub = s.scalars(select(Subscription)).one()
        assert (sub.status, sub.plan, sub.unit_amount, sub.quantity) == ("trialing", "pro", 9900, 1)
        assert sub.stripe_subscription_id == session["subscription"]
        assert sub.discount_percent_off == "20"
        assert sub.trial_end is not None and sub.current_period_end == sub.trial_end
        invoice = s.scalars(select(Invoice)).one()
        assert (invoice.status, invoice.amount_paid, invoice.total) == ("paid", 0, 0)
        assert s.scalars(select(Payment)).all() == []


def test_paying_twice_changes_nothing_and_a_paid_subscription_records_the_charge(
    shop: Shop, database: Database
) -> None:
    opened = shop.checkout("bo@example.com", price="starter_yearly")
    token = shop.form_token(opened["url"])
    assert shop.pay(opened["url"], token).status_code == 303
    assert "This checkout is paid." in shop.api.get(opened["url"]).text
    again = shop.pay(opened["url"], token)  # a resubmitted form (back button, double click)
    assert (again.status_code, again.headers["location"]) == (303, SUCCESS)
    with database.transaction() as s:
        assert s.scalar(select(StripeEvent.id).where(StripeEvent.type == "charge.succeeded"))
        events = s.scalars(select(StripeEvent.id)).all()
    assert len(events) == 8  # charge, intent, subscription, 4 invoice, session: once each
    shop.run_billing()
    with database.transaction() as s:
        sub = s.scalars(select(Subscription)).one()
        assert (sub.status, sub.plan, sub.interval) == ("active", "starter", "year")
        invoice = s.scalars(select(Invoice)).one()
        assert (invoice.amount_paid, invoice.status) == (19900, "paid")
        payment = s.scalars(select(Payment)).one()
        assert (payment.amount, payment.status) == (19900, "succeeded")
        assert payment.stripe_payment_intent_id is not None


def test_the_pay_form_needs_the_sessions_own_token_and_an_unknown_session_is_404(
    shop: Shop,
) -> None:
    opened = shop.checkout("cy@example.com", price="pro_monthly")
    forged = shop.api.post(
        f"{opened['url']}/pay", data={"form_token": "forged"}, follow_redirects=False
    )
    assert (forged.status_code, forged.json()["code"]) == (403, "bad_form_token")
    session = shop.sandbox.get("checkout_session", opened["session_id"])
    assert session is not None and session["status"] == "open"
    missing = shop.api.get("/sandbox/checkout/cs_test_nope")
    assert (missing.status_code, missing.json()["code"]) == (404, "unknown_checkout")


def test_the_sandbox_pages_are_404_when_stripe_is_configured(
    settings: Settings, database: Database, redis_client: Any, transport: StreamTransport
) -> None:
    real = settings.model_copy(update={"stripe_api_key": "sk_test_x"})
    sandbox = SandboxGateway(settings.data_dir / "stripe.db")
    app = create_app(Runtime(real, database, redis_client, transport, {"stripe": sandbox}))
    try:
        answer = TestClient(app).get("/sandbox/checkout/cs_test_anything")
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    finally:
        app.state.api_call_recorder.close()


def test_a_paid_one_time_checkout_makes_a_charge_and_billing_records_the_payment(
    shop: Shop, database: Database
) -> None:
    opened = shop.checkout("di@example.com", price="ai_tokens_1m", quantity=2)
    assert shop.pay(opened["url"]).status_code == 303
    session = shop.sandbox.get("checkout_session", opened["session_id"])
    assert session is not None
    assert (session["status"], session["payment_status"], session["amount_total"]) == (
        "complete",
        "paid",
        20000,
    )
    intent = shop.sandbox.get("payment_intent", session["payment_intent"])
    assert intent is not None and intent["status"] == "succeeded"
    charge = shop.sandbox.get("charge", intent["latest_charge"])
    assert charge is not None and (charge["amount"], charge["paid"]) == (20000, True)
    assert session["subscription"] is None
    shop.run_billing()
    with database.transaction() as s:
        payment = s.scalars(select(Payment)).one()
        assert (payment.amount, payment.stripe_payment_intent_id) == (20000, intent["id"])
        assert s.scalars(select(Subscription)).all() == []
