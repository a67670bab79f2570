"""The stripe-python gateway against localstripe: plain dicts, error kinds, one refund per key."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from agents.billing.stripe_invoices import invoice_payment_refs, invoice_payments_left_out
from tests.support.localstripe import TEST_API_KEY, register_webhook
from tests.support.stripe_faults import StripeFaultProxy
from tools.stripe import client as client_module
from tools.stripe.client import StripeClientGateway
from tools.stripe.gateway import (
    IDEMPOTENCY_METADATA_KEY,
    StripeGatewayError,
    StripeNotFound,
    StripeRequestError,
)

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}


def _stripe(url: str) -> stripe.StripeClient:
    """A plain client to arrange the scene on localstripe (not the code under test)."""
    return stripe.StripeClient(TEST_API_KEY, base_addresses={"api": url})


def _customer_with_card(setup: stripe.StripeClient) -> tuple[str, str]:
    customer = setup.v1.customers.create({"email": "ada@example.com"})
    card = setup.v1.payment_methods.create({"type": "card", "card": CARD})  # type: ignore[arg-type]
    setup.v1.payment_methods.attach(card.id, {"customer": customer.id})
    return customer.id, card.id


def _paid_charge(url: str, amount: int) -> str:
    setup = _stripe(url)
    customer, card = _customer_with_card(setup)
    intent = setup.v1.payment_intents.create(
        {
            "amount": amount,
            "currency": "usd",
            "customer": customer,
            "payment_method": card,
            "confirm": True,
        }
    )
    return str(intent.to_dict()["latest_charge"]["id"])


def _refund_ids(url: str, charge: str) -> list[str]:
    return [r.id for r in _stripe(url).v1.refunds.list({"charge": charge}).auto_paging_iter()]


@pytest.fixture
def gateway(localstripe: str) -> StripeClientGateway:
    return StripeClientGateway(TEST_API_KEY, api_base=localstripe, max_retries=0, timeout=5.0)


def _subscription(url: str) -> tuple[str, str]:
    """(customer id, subscription id) of a customer subscribed to a 15.00 USD monthly plan."""
    setup = _stripe(url)
    customer, card = _customer_with_card(setup)
    setup.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": card}})
    plan = setup.v1.plans.create(
        {"amount": 1500, "currency": "usd", "interval": "month", "product": {"name": "Pro"}}
    )
    subscription = setup.v1.subscriptions.create(
        {"customer": customer, "items": [{"plan": plan.id}]}  # type: ignore[typeddict-item]
    )
    return customer, subscription.id


def test_retrieves_customer_subscription_invoice_and_charge_as_plain_dicts(
    localstripe: str, gateway: StripeClientGateway
) -> None:
    customer, subscription_id = _subscription(localstripe)

    got_customer = gateway.retrieve("customer", customer)
    got_subscription = gateway.retrieve("subscription", subscription_id)
    invoice = gateway.retrieve("invoice", got_subscription["latest_invoice"])
    charge = gateway.retrieve("charge", invoice["charge"]["id"])

    assert type(got_customer) is dict and got_customer["email"] == "ada@example.com"
    assert got_subscription["status"] == "active"
    assert type(got_subscription["items"]["data"][0]) is dict
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", 1500)
    assert (charge["amount"], charge["currency"], charge["paid"]) == (1500, "usd", True)


def test_invoice_payments_are_not_found_on_localstripe_whose_invoices_name_the_charge(
    localstripe: str, gateway: StripeClientGateway
) -> None:
    _customer, subscription_id = _subscription(localstripe)
    invoice = gateway.retrieve(
        "invoice", gateway.retrieve("subscription", subscription_id)["latest_invoice"]
    )

    with pytest.raises(StripeNotFound):
        gateway.list_invoice_payments(invoice=invoice["id"])
    # So billing never needs that list there: the legacy `invoice.charge` names the payment.
    assert not invoice_payments_left_out(invoice)
    [named] = invoice_payment_refs(invoice)
    assert (named.stripe_charge_id, named.amount) == (invoice["charge"]["id"], 1500)


def test_partial_then_full_refund(localstripe: str, gateway: StripeClientGateway) -> None:
    charge = _paid_charge(localstripe, 2000)

    partial = gateway.create_refund(
        amount=500, idempotency_key="refund:a1", charge=charge, metadata={"approval": "a1"}
    )
    assert gateway.retrieve("charge", charge)["amount_refunded"] == 500
    rest = gateway.create_refund(amount=1500, idempotency_key="refund:a2", charge=charge)

    assert partial["metadata"] == {"approval": "a1", IDEMPOTENCY_METADATA_KEY: "refund:a1"}
    refunded = gateway.retrieve("charge", charge)
    assert (refunded["amount_refunded"], refunded["refunded"]) == (2000, True)
    found = {
        r["metadata"][IDEMPOTENCY_METADATA_KEY]: r["id"]
        for r in gateway.list_refunds(charge=charge)
    }
    assert found == {"refund:a1": partial["id"], "refund:a2": rest["id"]}


def test_missing_object_raises_not_found(gateway: StripeClientGateway) -> None:
    with pytest.raises(StripeNotFound):
        gateway.retrieve("customer", "cus_does_not_exist")
    with pytest.raises(StripeNotFound):
        gateway.create_refund(amount=100, idempotency_key="refund:x", charge="ch_missing")


def test_refused_request_raises_request_error_without_retrying(
    localstripe: str, stripe_faults: StripeFaultProxy
) -> None:
    charge = _paid_charge(localstripe, 2000)
    gateway = StripeClientGateway(TEST_API_KEY, api_base=stripe_faults.url, max_retries=3)

    with pytest.raises(StripeRequestError) as refused:
        gateway.create_refund(amount=0, idempotency_key="refund:zero", charge=charge)

    assert refused.value.code == "invalid_request_error"
    assert len(stripe_faults.requests_to("POST", "/v1/refunds")) == 1


def test_refund_answered_500_twice_is_retried_with_one_key_into_one_refund(
    localstripe: str, stripe_faults: StripeFaultProxy
) -> None:
    charge = _paid_charge(localstripe, 2000)
    gateway = StripeClientGateway(TEST_API_KEY, api_base=stripe_faults.url, max_retries=3)
    stripe_faults.fail_next("POST", "/v1/refunds", 2)

    refund = gateway.create_refund(amount=800, idempotency_key="refund:ap-500", charge=charge)

    attempts = stripe_faults.requests_to("POST", "/v1/refunds")
    assert [a.outcome for a in attempts] == ["injected_500", "injected_500", "forwarded"]
    assert {a.idempotency_key for a in attempts} == {"refund:ap-500"}
    assert _refund_ids(localstripe, charge) == [refund["id"]]


def test_refund_whose_answer_times_out_is_replayed_into_one_refund(
    localstripe: str, stripe_faults: StripeFaultProxy
) -> None:
    charge = _paid_charge(localstripe, 2000)
    gateway = StripeClientGateway(
        TEST_API_KEY, api_base=stripe_faults.url, max_retries=2, timeout=1.0
    )
    stripe_faults.fail_next("POST", "/v1/refunds", 1, mode="timeout")

    refund = gateway.create_refund(amount=800, idempotency_key="refund:ap-slow", charge=charge)

    attempts = stripe_faults.requests_to("POST", "/v1/refunds")
    assert [a.outcome for a in attempts] == ["stalled", "replayed"]
    assert {a.idempotency_key for a in attempts} == {"refund:ap-slow"}
    assert _refund_ids(localstripe, charge) == [refund["id"]]


def test_stripe_down_past_the_retries_raises_gateway_error(
    localstripe: str, stripe_faults: StripeFaultProxy
) -> None:
    charge = _paid_charge(localstripe, 2000)
    gateway = StripeClientGateway(TEST_API_KEY, api_base=stripe_faults.url, max_retries=1)
    stripe_faults.fail_next("POST", "/v1/refunds", 5)

    with pytest.raises(StripeGatewayError):
        gateway.create_refund(amount=800, idempotency_key="refund:down", charge=charge)

    assert len(stripe_faults.requests_to("POST", "/v1/refunds")) == 2
    assert _refund_ids(localstripe, charge) == []


def test_unreachable_stripe_raises_gateway_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    gateway = StripeClientGateway(
        TEST_API_KEY, api_base=f"http://127.0.0.1:{closed_port}", max_retries=0
    )

    with pytest.raises(StripeGatewayError):
        gateway.retrieve("customer", "cus_any")


def test_events_are_listed_by_creation_time_across_pages(
    localstripe: str, gateway: StripeClientGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _stripe(localstripe)
    emails = [f"c{n}@example.com" for n in range(5)]
    for email in emails:
        setup.v1.customers.create({"email": email})
    monkeypatch.setattr(client_module, "PAGE_SIZE", 2)

    events: list[dict[str, Any]] = list(gateway.list_events(created_after=0))

    assert sorted(e["data"]["object"]["email"] for e in events) == emails
    created = [e["created"] for e in events]
    assert created == sorted(created)
    assert list(gateway.list_events(created_after=created[-1])) == []


@pytest.fixture
def webhook_inbox() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    """A bare HTTP endpoint that keeps every (body, Stripe-Signature) posted to it."""
    received: list[tuple[bytes, str]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe", received
    server.shutdown()
    server.server_close()


def test_registered_webhook_receives_events_signed_like_stripe(
    localstripe: str, webhook_inbox: tuple[str, list[tuple[bytes, str]]]
) -> None:
    target, received = webhook_inbox
    register_webhook(localstripe, target, "whsec_localstripe", events=["customer.created"])

    customer = _stripe(localstripe).v1.customers.create({"email": "hook@example.com"})

    def delivered() -> list[tuple[bytes, str]]:
        """Only this customer's event: earlier tests' pending deliveries may arrive too."""
        return [(b, s) for b, s in received if json.loads(b)["data"]["object"]["id"] == customer.id]

    deadline = time.monotonic() + 15
    while not delivered() and time.monotonic() < deadline:
        time.sleep(0.05)
    [(body, signature)] = delivered()
    assert stripe.WebhookSignature.verify_header(body.decode(), signature, "whsec_localstripe")
    assert json.loads(body)["type"] == "customer.created"


@pytest.mark.parametrize(
    ("api_key", "api_base", "label"),
    [
        ("sk_test_abc", None, "stripe (test mode)"),
        ("sk_live_abc", None, "stripe (live)"),
        ("sk_test_abc", "http://127.0.0.1:8420", "stripe at http://127.0.0.1:8420"),
    ],
)
def test_label_names_the_target(api_key: str, api_base: str | None, label: str) -> None:
    assert StripeClientGateway(api_key, api_base=api_base).label == label
