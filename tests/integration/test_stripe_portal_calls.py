"""The billing portal call over stripe-python, against a recording stand-in for Stripe
(localstripe has no billing portal): the request Moneta sends, and how answers map."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from tools.stripe.client import StripeClientGateway
from tools.stripe.gateway import StripeGatewayError, StripeNotFound

SESSION = {
    "id": "bps_1",
    "object": "billing_portal.session",
    "customer": "cus_1",
    "return_url": "https://app.example.com/billing",
    "url": "https://billing.stripe.com/p/session/test_1",
    "livemode": False,
}


@dataclass
class Recorder:
    """What the stand-in received, and what it answers next (status, body)."""

    requests: list[tuple[str, str, dict[str, list[str]], str | None]] = field(default_factory=list)
    answer: tuple[int, dict[str, object]] = (200, SESSION)


@pytest.fixture
def stripe_standin() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            key = self.headers.get("Idempotency-Key")
            recorder.requests.append((self.command, self.path, form, key))
            status, body = recorder.answer
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    server.shutdown()
    server.server_close()


def test_the_client_sends_customer_return_url_and_the_idempotency_key(
    stripe_standin: tuple[str, Recorder],
) -> None:
    url, recorder = stripe_standin
    gateway = StripeClientGateway("sk_test_portal", api_base=url, max_retries=0)
    created = gateway.create_billing_portal_session(
        customer="cus_1",
        return_url="https://app.example.com/billing",
        idempotency_key="billing_portal:7:abc:123",
    )
    assert created == SESSION and isinstance(created, dict)
    [(method, path, form, key)] = recorder.requests
    assert (method, path, key) == (
        "POST",
        "/v1/billing_portal/sessions",
        "billing_portal:7:abc:123",
    )
    assert form == {"customer": ["cus_1"], "return_url": ["https://app.example.com/billing"]}


def test_an_unknown_customer_and_an_outage_map_to_the_gateways_errors(
    stripe_standin: tuple[str, Recorder],
) -> None:
    url, recorder = stripe_standin
    gateway = StripeClientGateway("sk_test_portal", api_base=url, max_retries=0)
    missing: dict[str, object] = {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": "No such customer: 'cus_x'",
        }
    }
    recorder.answer = (400, missing)
    with pytest.raises(StripeNotFound):
        gateway.create_billing_portal_session(
            customer="cus_x", return_url="https://a.example", idempotency_key="k1"
        )
    recorder.answer = (500, {"error": {"type": "api_error", "message": "boom"}})
    with pytest.raises(StripeGatewayError):
        gateway.create_billing_portal_session(
            customer="cus_1", return_url="https://a.example", idempotency_key="k2"
        )
