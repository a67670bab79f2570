"""The console in a real browser (Debian's Chromium, headless): log in, approve a refund and
watch a worker execute it, reject another, retry a dead task; screenshots of the main pages
go to test-artifacts/console/."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import uvicorn
from sqlalchemy import update

from agents.approvals.service import request_refund
from agents.billing import graph as billing
from agents.checkpoints import checkpointer_factory
from api.app import create_app
from core.clock import utcnow
from core.settings import Settings
from db.models import MetricSnapshot, Refund, Task, TaskStatus
from db.session import Database
from orchestrator.access.roles import APPROVER, OPERATOR
from orchestrator.outbox import submit
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from orchestrator.worker import Worker
from tests.support.operators import PASSWORD, make_operator
from tests.support.refunds import PaidCustomer, seed_paid_customer
from tests.support.waiting import wait_until
from tools.stripe.sandbox import SandboxGateway

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stripe(settings: Settings) -> SandboxGateway:
    return SandboxGateway(settings.data_dir / "stripe-sandbox.db")


@pytest.fixture
def runtime(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    stripe: SandboxGateway,
) -> Runtime:
    tools = {
        "stripe": stripe,
        "checkpointer_factory": checkpointer_factory(settings.effective_database_url),
    }
    return Runtime(settings, database, redis_client, transport, tools)


@pytest.fixture
def console_url(runtime: Runtime) -> Iterator[str]:
    """The app served by uvicorn in a thread; localhost, where browsers keep Secure cookies."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, message="console server started")
    yield f"http://localhost:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def billing_worker(runtime: Runtime) -> Iterator[Worker]:
    worker = Worker(
        runtime, ["billing"], concurrency=1, batch=1, handlers={"billing": billing.handle}
    )
    worker.start()
    yield worker
    worker.stop()
    worker.join(10)


@pytest.fixture
def page(console_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=console_url)
        yield context.new_page()
        context.close()
        browser.close()


def seed_metrics(database: Database) -> None:
    """Thirty days of snapshots, so the analytics page has a trend to draw."""
    today = utcnow().date()
    with database.transaction() as s:
        for back in range(30):
            day = today - timedelta(days=29 - back)
            plans = {
                "starter": 40_000 + back * 900,
                "pro": 120_000 + back * 2_500 - (9_000 if back % 6 == 5 else 0),
            }
            for plan, mrr in [*plans.items(), ("*", sum(plans.values()))]:
                s.add(
                    MetricSnapshot(
                        day=day,
                        currency="usd",
                        plan=plan,
                        metrics={
                            "mrr": mrr,
                            "arr": mrr * 12,
                            "active_subscriptions": mrr // 2_900,
                            "new_subscriptions": 1 + back % 3,
                            "churned_subscriptions": int(back % 4 == 0),
                            "failed_payments": int(back % 5 == 0),
                            "net_revenue": mrr // 28,
                        },
                    )
                )


def request(
    database: Database, settings: Settings, paid: PaidCustomer, amount: int, why: str
) -> int:
    with database.transaction() as s:
        return request_refund(
            s,
            payment_ref=paid.charge,
            amount=amount,
            reason=why,
            requested_by="alice",
            submit=submit,
            settings=settings,
        ).id


def dead_task(database: Database) -> int:
    with database.transaction() as s:
        task_id = submit(s, "notification.send", {"template": "welcome", "key": "e2e"})
        assert task_id is not None
        s.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(status=TaskStatus.DEAD, attempts=8, last_error="SMTPServerDisconnected: gone")
        )
    return task_id


def shot(page: object, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_operator_day_in_the_console(
    page: object,
    database: Database,
    settings: Settings,
    stripe: SandboxGateway,
    billing_worker: Worker,
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    make_operator(database, "alice", OPERATOR)
    make_operator(database, "bob", APPROVER)
    paid = seed_paid_customer(database, amount=12_000, sandbox=stripe, suffix="e2e")
    seed_metrics(database)
    refund_id = request(database, settings, paid, 4_500, "customer was charged twice")
    reject_id = request(database, settings, paid, 2_000, "goodwill credit")
    task_id = dead_task(database)

    page.goto("/console")
    expect(page).to_have_url(re.compile(r"/console/login$"))
    shot(page, "login")
    page.fill("#username", "bob")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#pending-count")).to_have_text("2")
    shot(page, "overview")

    page.goto("/console/approvals")
    expect(page.locator("#approval-rows")).to_contain_text("customer was charged twice")
    shot(page, "approvals")

    page.goto(f"/console/approvals/{refund_id}")
    expect(page.locator(".drift.ok")).to_be_visible()
    shot(page, "approval")
    page.fill("form[action$='/approve'] textarea", "matches the duplicate charge")
    page.click("#approve")
    expect(page.locator("#flash")).to_contain_text("approval is recorded")

    def executed() -> bool:
        page.reload()
        return page.locator("h1 .badge").inner_text() == "executed"

    wait_until(executed, timeout=60, interval=0.5, message="refund executed by the worker")
    with database.transaction() as s:
        [refund] = s.query(Refund).all()
    assert (refund.approval_id, refund.amount) == (refund_id, 4_500)
    expect(page.locator("body")).to_contain_text("refund_id")

    page.goto(f"/console/approvals/{reject_id}")
    page.fill("form[action$='/reject'] textarea", "not covered by policy")
    page.click("#reject")
    expect(page.locator("h1 .badge")).to_have_text("rejected")
    expect(page.locator("body")).to_contain_text("not covered by policy")

    page.goto("/console/tasks?status=dead")
    expect(page.locator("body")).to_contain_text("SMTPServerDisconnected")
    shot(page, "tasks")
    page.goto(f"/console/tasks/{task_id}")
    page.fill("form[action$='/retry'] textarea", "SMTP is back")
    page.click("#retry")
    expect(page.locator("h1 .badge")).to_have_text("pending")
    expect(page.locator("body")).to_contain_text("task.retry")

    page.goto("/console/customers?q=cus_test_e2e")
    page.click(f"a[href='/console/customers/{paid.customer_id}']")
    expect(page.locator("body")).to_contain_text("USD 45.00")
    shot(page, "customer")

    page.goto("/console/analytics")
    expect(page.locator(".chart svg").first).to_be_visible()
    shot(page, "analytics")
