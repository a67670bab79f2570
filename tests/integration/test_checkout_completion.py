"""Checkout completion and trials through signed Stripe events and the billing agent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from agents.catalog.loader import load_catalog
from agents.catalog.sync import sync_catalog
from agents.checkout.rules import CheckoutRequest
from agents.checkout.service import start_checkout
from agents.checkout.trials import TAKEOVER_AFTER
from api.app import create_app
from core.clock import frozen
from core.errors import Conflict
from core.settings import Settings
from db.models import Customer, CustomerTrial, Task, TaskStatus
from db.session import Database
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.integration.test_billing_events import Billing
from tests.support.stripe_events import event, fixture, signed
from tools.stripe.sandbox import SandboxGateway

T0 = 1_790_000_000
DAY = 86_400


class Scene:
    """Signed webhooks into the real app, the billing task run here, the sandbox as Stripe."""

    def __init__(self, settings: Settings, database: Database, app: Any, sandbox: SandboxGateway):
        self.settings = settings
        self.database = database
        self.api = TestClient(app)
        self.sandbox = sandbox
        self.billing = Billing(database, settings, sandbox)  # type: ignore[arg-type]

    def deliver(self, evt: dict[str, Any]) -> None:
        body, signature = signed(evt, self.settings.stripe_webhook_secret or "")
        answer = self.api.post(
            "/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}
        )
        assert answer.status_code == 200, answer.text
        with self.database.transaction() as s:
            task_id = s.scalars(
                select(Task.id).where(Task.dedupe_key == f"stripe-event:{evt['id']}")
            ).one()
        assert self.billing.run(task_id).status == TaskStatus.DONE

    def customer(self, email: str, stripe_id: str | None = None) -> int:
        with self.database.transaction() as s:
            row = Customer(email=email, stripe_customer_id=stripe_id)
            s.add(row)
            s.flush()
            return row.id

    def trials(self) -> list[tuple[int, str, str, str | None, int | None]]:
        with self.database.transaction() as s:
            rows = s.scalars(select(CustomerTrial).order_by(CustomerTrial.id))
            return [
                (t.customer_id, t.source, t.reference, t.stripe_subscription_id, t.trial_days)
                for t in rows
            ]


@pytest.fixture
def scene(
    settings: Settings,
    database: Database,
    redis_client: Any,
    transport: StreamTransport,
    tmp_path: Path,
) -> Iterator[Scene]:
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    sync_catalog(database, sandbox, load_catalog())
    app = create_app(Runtime(settings, database, redis_client, transport, {"stripe": sandbox}))
    yield Scene(settings, database, app, sandbox)
    app.state.api_call_recorder.close()


def trialing(sub_id: str, stripe_customer: str) -> dict[str, Any]:
    return fixture(
        "subscription",
        id=sub_id,
        customer=stripe_customer,
        status="trialing",
        trial_start=T0,
        trial_end=T0 + 14 * DAY,
        start_date=T0,
    )


def test_a_completed_checkout_links_the_stripe_customer_named_by_its_reference(
    scene: Scene,
) -> None:
    customer_id = scene.customer("ada@example.com")
    scene.sandbox.put("customer", fixture("customer", id="cus_made_by_checkout", email=None))
    session = fixture(
        "checkout.session",
        id="cs_sub_1",
        mode="subscription",
        status="complete",
        payment_status="paid",
        customer="cus_made_by_checkout",
        client_reference_id=str(customer_id),
        subscription="sub_1",
        amount_total=9900,
        currency="usd",
    )
    scene.deliver(event("checkout.session.completed", session, created=T0))
    with scene.database.transaction() as s:
        rows = s.scalars(select(Customer)).all()
        assert [(c.id, c.stripe_customer_id) for c in rows] == [
            (customer_id, "cus_made_by_checkout")
        ]


def test_a_trial_started_outside_moneta_counts_and_blocks_a_second_one(scene: Scene) -> None:
    customer_id = scene.customer("ada@example.com", "cus_ada")
    created = event("customer.subscription.created", trialing("sub_t1", "cus_ada"), created=T0)
    scene.deliver(created)
    scene.deliver({**created, "id": "evt_replayed_copy"})
    assert scene.trials() == [(customer_id, "stripe", "sub_t1", "sub_t1", 14)]

    with scene.database.transaction() as s, pytest.raises(Conflict) as refused:
        start_checkout(
            s, scene.sandbox, scene.settings, CheckoutRequest(customer_id, "pro_monthly")
        )
    assert refused.value.code == "trial_already_used"
    with scene.database.transaction() as s:
        started = start_checkout(
            s,
            scene.sandbox,
            scene.settings,
            CheckoutRequest(customer_id, "pro_monthly", trial_days=0),
        )
    assert started.trial_days is None


def test_a_moneta_trial_seen_again_on_stripe_is_one_trial(scene: Scene) -> None:
    customer_id = scene.customer("ada@example.com")
    with scene.database.transaction() as s:
        started = start_checkout(
            s, scene.sandbox, scene.settings, CheckoutRequest(customer_id, "starter_monthly")
        )
    assert started.trial_days == 14
    [(_, source, reference, sub_id, days)] = scene.trials()
    assert (source, sub_id, days) == ("checkout", None, 14)
    stripe_customer = scene.sandbox.get("checkout_session", started.session_id)["customer"]  # type: ignore[index]
    scene.deliver(
        event("customer.subscription.created", trialing("sub_m1", stripe_customer), created=T0)
    )
    assert scene.trials() == [(customer_id, "checkout", reference, "sub_m1", 14)]


def test_an_abandoned_trial_checkout_gives_the_trial_back_after_its_session_expired(
    scene: Scene,
) -> None:
    customer_id = scene.customer("ada@example.com")
    opened_at = datetime(2026, 11, 2, 10, 0, 30, tzinfo=UTC)

    def open_trial(at: datetime, request_key: str) -> str:
        with frozen(at), scene.database.transaction() as s:
            request = CheckoutRequest(customer_id, "pro_monthly", request_key=request_key)
            return start_checkout(s, scene.sandbox, scene.settings, request).session_id

    first = open_trial(opened_at, "first")
    session = scene.sandbox.get("checkout_session", first)
    assert session is not None
    params = checkout_request(scene.sandbox, first)
    assert params["expires_at"] == int(datetime(2026, 11, 2, 11, 0, tzinfo=UTC).timestamp())
    assert open_trial(opened_at + timedelta(minutes=5), "first") == first  # a retry

    with pytest.raises(Conflict):  # the first session may still be completed
        open_trial(opened_at + TAKEOVER_AFTER - timedelta(seconds=1), "second")
    later = open_trial(opened_at + TAKEOVER_AFTER, "third")
    assert later != first
    [(_, source, reference, sub_id, _)] = scene.trials()
    assert (source, sub_id) == ("checkout", None) and reference.startswith("checkout:")
    with pytest.raises(Conflict):  # the trial moved: the first checkout no longer holds it
        open_trial(opened_at + TAKEOVER_AFTER + timedelta(minutes=1), "first")


def checkout_request(sandbox: SandboxGateway, session_id: str) -> dict[str, Any]:
    """The parameters the sandbox was sent for a session (its idempotency record)."""
    with sandbox._connect() as db:
        for request, outcome in db.execute("SELECT request, outcome FROM idempotency_keys"):
            if json.loads(outcome).get("checkout_session", {}).get("id") == session_id:
                return json.loads(request)  # type: ignore[no-any-return]
    raise AssertionError(f"no request for {session_id}")
