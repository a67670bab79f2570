"""localstripe (a fake Stripe API server) as pytest fixtures, and its webhook registration.

`localstripe_url` starts one `localstripe --from-scratch` per test session (it keeps its store
in the fixed file /tmp/localstripe.pickle, so never load it); `localstripe` yields the same URL
to a test and empties the store afterwards. Point the gateway at it with
`StripeClientGateway("sk_test_...", api_base=url)`; any key starting with `sk_` is accepted.

What localstripe is and is not: old API shapes (events carry api_version 2017-08-15, periods
on the subscription, `invoice.subscription` at top level); no Prices or Checkout Sessions (use
Plans: `plans.create({"amount", "currency", "interval", "product": {"name"}})`); idempotency
keys ignored (put `tests.support.stripe_faults` in front for that); refunds accept only
`charge`/`payment_intent`/`amount`/`metadata` (a `reason` is refused with 400) and emit no
event. To get a charge: create a customer, a card PaymentMethod (4242424242424242), attach it,
then either a PaymentIntent with `confirm=True` (its `latest_charge`), or set the card as
`invoice_settings.default_payment_method` and subscribe the customer to a Plan (the first
invoice is paid at once; `invoice.charge` is the charge).

Webhooks: localstripe signs every event it emits exactly as Stripe does (`Stripe-Signature:
t=<event.created>,v1=<HMAC-SHA256 of "t.body">`) and POSTs it, about one second after the API
call, to every endpoint registered with `POST {url}/_config/webhooks/<name>` and a body of
`url`, `secret` and optionally `events` (a list of types; absent means all). A test registers
Moneta's intake with `register_webhook(localstripe, f"{api_url}/webhooks/stripe", secret)`,
using a secret that Moneta's settings accept. Events it sends: customer.created/updated/
deleted, customer.subscription.created/deleted, invoice.created, invoice.payment_succeeded,
invoice.payment_failed, payment_intent.succeeded/payment_failed, plan.created,
product.created (no invoice.paid, no charge.refunded). Delivery looks the endpoints up when it
fires, so an endpoint also receives events of calls made up to a second before it was
registered (an earlier test's): match deliveries on object ids. Endpoints cannot be deleted
and outlive the store, so the `localstripe` fixture silences those registered through
`register_webhook` after each test.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

LOCALSTRIPE = Path(sys.executable).with_name("localstripe")
TEST_API_KEY = "sk_test_moneta_localstripe"
_START_TIMEOUT_SECONDS = 30.0
_registered: dict[str, dict[str, tuple[str, str]]] = {}


def register_webhook(
    url: str, target_url: str, secret: str, events: list[str] | None = None
) -> str:
    """Have localstripe at `url` POST signed events to `target_url`; returns the endpoint name."""
    name = "moneta-" + hashlib.sha256(target_url.encode()).hexdigest()[:12]
    _configure_webhook(url, name, target_url, secret, events)
    _registered.setdefault(url, {})[name] = (target_url, secret)
    return name


def _configure_webhook(
    url: str, name: str, target_url: str, secret: str, events: list[str] | None
) -> None:
    body: dict[str, object] = {"url": target_url, "secret": secret}
    if events is not None:
        body["events"] = events
    _request(url, "POST", f"/_config/webhooks/{name}", json.dumps(body).encode())


def _silence_webhooks(url: str) -> None:
    """An empty event list matches no event: the closest localstripe has to deleting one."""
    for name, (target_url, secret) in _registered.pop(url, {}).items():
        _configure_webhook(url, name, target_url, secret, events=[])


def _request(url: str, method: str, path: str, body: bytes | None = None) -> int:
    request = urllib.request.Request(
        url + path,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {TEST_API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited early:\n{log.read_text()}")
        try:
            _request(url, "GET", "/v1/customers")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"localstripe did not answer within {_START_TIMEOUT_SECONDS}s")


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(LOCALSTRIPE), "--port", str(port), "--from-scratch"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_answering(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def localstripe(localstripe_url: str) -> Iterator[str]:
    """The localstripe URL for one test; its data and webhook endpoints are cleared after."""
    yield localstripe_url
    _silence_webhooks(localstripe_url)
    _request(localstripe_url, "DELETE", "/_config/data")
