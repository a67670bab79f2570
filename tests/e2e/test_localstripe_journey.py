"""End to end against localstripe: it sends signed webhooks for a customer, a subscription and a
paid invoice to a real `moneta api` process; a real `moneta worker` provisions and e-mails. Then
a refund is requested, approved, and executed by that worker on localstripe exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import stripe
from sqlalchemy import select

from agents.approvals.service import decide, request_refund
from core.errors import MonetaError
from core.settings import Settings
from db.models import (
    Approval,
    ApprovalStatus,
    Customer,
    Entitlement,
    Notification,
    Payment,
    Refund,
    Subscription,
)
from db.session import Database
from orchestrator.outbox import submit
from tests.support.localstripe import TEST_API_KEY, register_webhook
from tests.support.processes import free_port, settings_env, start_moneta, stop
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def moneta_on_localstripe(
    settings: Settings, localstripe: str, transport, tmp_path: Path
) -> Iterator[tuple[Settings, str]]:
    """`moneta api` and `moneta worker` processes talking to localstripe."""
    live = settings.model_copy(
        update={"stripe_api_key": TEST_API_KEY, "stripe_api_base": localstripe}
    )
    env = settings_env(live)
    port = free_port()
    api = start_moneta(["api", "--port", str(port)], env, tmp_path / "api.log")
    worker = start_moneta(["worker", "--concurrency", "2"], env, tmp_path / "worker.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{base}/healthz"), message="the API to start")
        register_webhook(localstripe, f"{base}/webhooks/stripe", settings.webhook_secrets[0])
        yield live, base
    finally:
        stop(api)
        stop(worker)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _subscribe(localstripe: str, email: str) -> tuple[str, str]:
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": localstripe})
    customer = client.v1.customers.create(params={"email": email, "name": "Lou Stripe"})
    plan = client.v1.plans.create(
        params={
            "id": f"starter-{uuid.uuid4().hex[:8]}",
            "amount": 1900,
            "currency": "usd",
            "interval": "month",
            "product": {"name": "Starter"},
            "metadata": {"plan": "starter"},
        }
    )
    card = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    client.v1.payment_methods.attach(card.id, params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
    )
    subscription = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"plan": plan.id}]}
    )
    return customer.id, subscription.id


def _one(database: Database, query):  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        return s.scalars(query).first()


def test_localstripe_webhooks_provision_email_and_an_approved_refund_executes_once(
    moneta_on_localstripe: tuple[Settings, str], database: Database, localstripe: str
) -> None:
    live, _base = moneta_on_localstripe
    email = f"lou+{uuid.uuid4().hex[:6]}@example.com"
    customer_id, subscription_id = _subscribe(localstripe, email)

    wait_until(
        lambda: (
            _one(
                database,
                select(Subscription).where(
                    Subscription.stripe_subscription_id == subscription_id,
                    Subscription.status == "active",
                ),
            )
            is not None
        ),
        timeout=60,
        message="the subscription to be mirrored",
    )
    customer = _one(database, select(Customer).where(Customer.stripe_customer_id == customer_id))
    assert customer is not None and customer.email == email
    wait_until(
        lambda: (
            _one(
                database,
                select(Entitlement).where(
                    Entitlement.customer_id == customer.id,
                    Entitlement.status == "active",
                    Entitlement.plan == "starter",
                ),
            )
            is not None
        ),
        timeout=60,
        message="starter entitlements",
    )
    wait_until(
        lambda: (
            _one(
                database,
                select(Notification).where(
                    Notification.customer_id == customer.id,
                    Notification.template == "receipt",
                    Notification.status == "sent",
                ),
            )
            is not None
        ),
        timeout=60,
        message="the receipt e-mail",
    )
    outbox = list(Path(live.effective_outbox_dir).glob("*.eml"))
    assert any(email in p.read_text() and "19.00" in p.read_text() for p in outbox)

    payment = _one(database, select(Payment).where(Payment.customer_id == customer.id))
    assert payment is not None and payment.amount == 1900
    with database.transaction() as s:
        approval = request_refund(
            s,
            payment_ref=payment.stripe_charge_id or "",
            amount=700,
            reason="goodwill",
            requested_by="support-amy",
            settings=live,
            submit=submit,
        )
        approval_id = approval.id
    wait_until(
        lambda: (
            _one(database, select(Approval.thread_id).where(Approval.id == approval_id)) is not None
        ),
        message="the refund graph to pause",
    )
    with database.transaction() as s:
        decide(s, approval_id, operator="approver-bo", approve=True, submit=submit)
    with pytest.raises(MonetaError), database.transaction() as s:  # a second approval is refused
        decide(s, approval_id, operator="approver-cy", approve=True, submit=submit)
    wait_until(
        lambda: (
            _one(database, select(Approval.status).where(Approval.id == approval_id))
            == ApprovalStatus.EXECUTED
        ),
        timeout=60,
        message="the refund to execute",
    )

    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": localstripe})
    refunds = client.v1.refunds.list(params={"charge": payment.stripe_charge_id}).data
    assert [r.amount for r in refunds] == [700]
    refund = _one(database, select(Refund).where(Refund.approval_id == approval_id))
    assert refund is not None and refund.amount == 700 and refund.stripe_refund_id == refunds[0].id
