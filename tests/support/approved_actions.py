"""A billing scene for approved actions: the sandbox as Stripe behind a call counter, Ada
mirrored through signed webhooks, and helpers to request, decide and run the graph's tasks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import select

from agents.approvals.service import decide, request_action
from agents.approved_actions.graph import advance_action
from agents.checkpoints import checkpointer_factory
from agents.context import AgentContext
from core.clock import utcnow
from core.settings import Settings
from db.models import Approval, Customer
from db.session import Database
from orchestrator.outbox import submit
from orchestrator.transport import StreamTransport
from tests.support.invoicing import (
    HANDLERS,
    DueAgentTasks,
    InvoicingScene,
    invoicing_scene,
    stripe_customer,
    stripe_subscription,
)
from tests.support.stripe_events import event
from tools.stripe.gateway import StripeGatewayError
from tools.stripe.sandbox import SandboxGateway

WATCHED = (
    "create_balance_transaction",
    "charge_one_off",
    "cancel_subscription",
    "set_trial_end",
    "mark_invoice_uncollectible",
)


class CountingGateway:
    """The sandbox, counting the action calls; `fail_first` answers a 5xx before the first
    call of a method reaches it, `hold` blocks the first call until released."""

    label = "counting offline sandbox"

    def __init__(self, inner: SandboxGateway) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}
        self.fail_first: set[str] = set()
        self.hold: tuple[threading.Event, threading.Event] | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name not in WATCHED:
            return target

        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls[name] = self.calls.get(name, 0) + 1
                first = self.calls[name] == 1
            if first and name in self.fail_first:
                raise StripeGatewayError("stripe unavailable (500)")
            if first and self.hold is not None:
                inside, release = self.hold
                inside.set()
                release.wait(20)
            return target(*args, **kwargs)

        return counted

    def total(self) -> int:
        return sum(self.calls.values())


class ActionScene(InvoicingScene):
    """Ada (cus_ada, trialing on sub_ada until TRIAL_END) as billing mirrored her."""

    stripe: CountingGateway

    def request(self, action: str, subject: tuple[str, str], amount: int = 0, **kw: Any) -> int:
        with self.database.transaction() as session:
            return request_action(
                session,
                action=action,
                subject_type=subject[0],
                subject_id=subject[1],
                customer_id=kw.pop("customer_id", self.customer_id()),
                amount=amount,
                currency=kw.pop("currency", "usd"),
                reason="support ticket 42",
                requested_by="alice",
                submit=submit,
                settings=self.settings,
                **kw,
            ).id

    def decide(self, approval_id: int, *, approve: bool = True) -> None:
        with self.database.transaction() as session:
            decide(
                session,
                approval_id,
                operator="bob",
                approve=approve,
                note=None if approve else "not warranted",
                submit=submit,
            )

    def approval(self, approval_id: int) -> Approval:
        with self.database.transaction() as session:
            found = session.get(Approval, approval_id)
            assert found is not None
            session.expunge(found)
            return found

    def customer_id(self) -> int:
        with self.database.transaction() as session:
            found = session.scalar(
                select(Customer.id).where(Customer.stripe_customer_id == "cus_ada")
            )
            assert found is not None
            return int(found)

    def run(
        self, kind: str, approval_id: int, fail_with: type[Exception] | None = None
    ) -> dict[str, Any]:
        """One graph task run directly, in its own unit of work (as the runtime runs it);
        `fail_with` rolls that unit of work back after the graph ran (a lost lease)."""
        with self.database.transaction() as session:

            def submit_here(kind: str, payload: dict[str, Any], **kw: Any) -> int | None:
                return submit(session, kind, payload, **kw)

            ctx = AgentContext(
                session=session,
                database=self.database,
                settings=self.settings,
                stripe=self.stripe,  # type: ignore[arg-type]
                mailer=None,  # type: ignore[arg-type]
                submit=submit_here,
                checkpointer_factory=checkpointer_factory(self.settings.effective_database_url),
            )
            result = advance_action(ctx, kind, {"approval_id": approval_id})
            if fail_with is not None:
                raise fail_with()
            return result


def trial_end() -> datetime:
    return (utcnow() + timedelta(days=3)).replace(microsecond=0)


def trialing_subscription(ends: datetime) -> dict[str, Any]:
    sub = stripe_subscription(
        "sub_ada",
        "cus_ada",
        status="trialing",
        plan="pro",
        amount=9900,
        period=(ends - timedelta(days=14), ends),
    )
    sub["trial_end"] = int(ends.timestamp())
    return sub


@pytest.fixture
def action_scene(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    tmp_path: Any,
) -> Iterator[ActionScene]:
    sandbox = SandboxGateway(tmp_path / "sandbox.db")
    customer = stripe_customer("cus_ada", "ada@example.com")
    customer["currency"] = "usd"
    sandbox.put("customer", customer)
    sub = trialing_subscription(trial_end())
    sandbox.put("subscription", sub)
    stripe = CountingGateway(sandbox)
    with invoicing_scene(settings, database, redis_client, transport, stripe) as base:  # type: ignore[arg-type]
        scene = ActionScene(base.client, database, settings, stripe)  # type: ignore[arg-type]
        tools = {
            "stripe": stripe,
            "mailer": None,
            "checkpointer_factory": checkpointer_factory(settings.effective_database_url),
        }
        scene.tasks = DueAgentTasks(database, settings, tools, HANDLERS)
        scene.deliver(event("customer.subscription.created", sub, created=1))
        yield scene
