"""Issue 3's promise, offline: `moneta up` on embedded defaults, then the whole billing journey
over the customer API (checkout paid on the sandbox page, trial, quantity change, cancel and
resume, invoices, estimate) and the CLI (catalog, subscription, paying a token pack)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_up_and_demo import _clean_env, _healthy
from tests.support.processes import free_port, stop
from tests.support.waiting import wait_until

# `moneta up` alone takes 10-20 s to be ready on a shared CI machine.
pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "orchestrator.cli"]
SUCCESS = "http://127.0.0.1/thanks"


class Moneta:
    """The running `moneta up` and one signed-in customer's HTTP client."""

    def __init__(self, base: str, env: dict[str, str], cwd: Path) -> None:
        self.base, self.env, self.cwd = base, env, cwd
        self.http = httpx.Client(base_url=base, timeout=30)

    def sign_up(self, email: str) -> int:
        password = "correct horse battery"
        created = self.http.post("/api/v1/register", json={"email": email, "password": password})
        assert created.status_code == 201, created.text
        token = self.http.post("/api/v1/token", data={"username": email, "password": password})
        assert token.status_code == 200, token.text
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return int(self.http.get("/api/v1/users/me").json()["customer_id"])

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        answer = self.http.request(method, path, **kwargs)
        assert answer.status_code == status, f"{method} {path}: {answer.text}"
        return answer.json()

    def subscription(self) -> dict[str, Any] | None:
        answer = self.http.get("/api/v1/subscription")
        return answer.json() if answer.status_code == 200 else None

    def await_subscription(self, what: str, **expected: Any) -> dict[str, Any]:
        def matches() -> bool:
            found = self.subscription()
            return found is not None and all(found[k] == v for k, v in expected.items())

        wait_until(matches, timeout=30, interval=0.2, message=what)
        found = self.subscription()
        assert found is not None
        return found

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [*CLI, *args], env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


@pytest.fixture
def moneta(tmp_path: Path) -> Iterator[Moneta]:
    port = free_port()
    env = _clean_env(tmp_path / "data", port)
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        up = subprocess.Popen(
            [*CLI, "up"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(f"{base}/readyz"), timeout=60, message="moneta up ready")
        journey = Moneta(base, env, tmp_path)
        yield journey
        journey.http.close()
    finally:
        code = stop(up, signal.SIGTERM, timeout=60)
    output = log_path.read_text()
    assert code == 0, output[-3000:]
    assert "billing  : sandbox synced: catalog" in output


def pay_on_the_sandbox_page(moneta: Moneta, url: str) -> None:
    page = moneta.http.get(url)
    assert page.status_code == 200 and "Pay with test card" in page.text
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    paid = moneta.http.post(f"{url}/pay", data={"form_token": token.group(1)})
    assert (paid.status_code, paid.headers["location"]) == (303, SUCCESS), paid.text


def test_the_billing_journey_works_offline_over_the_api_and_the_cli(moneta: Moneta) -> None:
    customer_id = moneta.sign_up("ana@example.com")
    products = moneta.ok("GET", "/api/v1/products")["products"]
    assert {"starter", "pro", "enterprise"} <= {p["key"] for p in products}
    check = moneta.ok(
        "POST", "/api/v1/discounts/validate", json={"code": "WELCOME20", "price": "pro_monthly"}
    )
    assert (check["valid"], check["amount_off"]["amount"]) == (True, 1980)

    body = {"price": "pro_monthly", "promotion_code": "WELCOME20", "trial": True}
    body |= {"success_url": SUCCESS, "cancel_url": SUCCESS}
    opened = moneta.ok("POST", "/api/v1/checkout-sessions", 201, json=body)
    assert opened["url"] == f"{moneta.base}/sandbox/checkout/{opened['session_id']}"
    pay_on_the_sandbox_page(moneta, opened["url"])
    sub = moneta.await_subscription("a trialing Pro", status="trialing", plan="pro")
    assert (sub["price"], sub["quantity"], sub["amount"]) == ("pro_monthly", 1, 9900)

    portal = moneta.ok("GET", "/api/v1/portal")
    assert portal["plan"]["key"] == "pro"

    seats = {"quantity": 2}
    preview = moneta.ok("PATCH", "/api/v1/subscription?preview=true", json=seats)
    assert preview["action"] == "upgrade" and preview["amount_due_now"] == 0  # trial: no proration
    moneta.ok("PATCH", "/api/v1/subscription", 202, json=seats)
    moneta.await_subscription("two seats applied", quantity=2, pending_change=None)

    ending = moneta.ok("DELETE", "/api/v1/subscription?preview=true")
    assert ending["refund_amount"] == 0
    moneta.ok("DELETE", "/api/v1/subscription", 202)
    moneta.await_subscription("cancel at period end", cancel_at_period_end=True)
    moneta.ok("POST", "/api/v1/subscription/resume", 202)
    moneta.await_subscription("resumed", cancel_at_period_end=False, status="trialing")

    invoices = moneta.ok("GET", "/api/v1/invoices")["data"]
    assert [(i["status"], i["amount_paid"]) for i in invoices] == [("paid", 0)]
    estimate = moneta.ok("GET", "/api/v1/billing/estimate")
    assert estimate["currency"] == "usd" and estimate["subtotal"] == 2 * 9900
    assert estimate["total"] == estimate["subtotal"] - estimate["discount"] + estimate["tax"]

    assert "pro_monthly" in moneta.cli("catalog", "show")
    shown = moneta.cli("subscriptions", "show", "--customer", str(customer_id))
    assert "status: trialing" in shown and "quantity: 2" in shown

    pack = {"price": "ai_tokens_1m", "success_url": SUCCESS, "cancel_url": SUCCESS}
    bought = moneta.ok("POST", "/api/v1/checkout-sessions", 201, json=pack)
    paid = moneta.cli("sandbox", "pay-checkout", bought["session_id"])
    assert "complete (paid)" in paid and "payment pi_" in paid
    assert "complete (paid)" in moneta.cli("sandbox", "pay-checkout", bought["session_id"])
    wait_until(
        lambda: any(p["amount"] == 10000 for p in moneta.ok("GET", "/api/v1/portal")["payments"]),
        timeout=30,
        interval=0.2,
        message="the token pack's payment in the portal",
    )
