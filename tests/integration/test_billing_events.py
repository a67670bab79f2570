"""The billing agent applying Stripe events through the real task runtime and database."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from agents.billing import graph
from core.settings import Settings
from db.models import (
    AnalyticsEvent,
    Customer,
    Dispute,
    Invoice,
    Payment,
    Refund,
    StripeEvent,
    Subscription,
    SubscriptionVersion,
    Task,
    TaskStatus,
)
from db.repositories.stripe_inbox import add_event
from db.session import Database
from orchestrator.outbox import submit
from orchestrator.runtime import TaskRunner
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from orchestrator.worker import Worker
from tests.support.stripe_events import event, fixture
from tests.support.waiting import wait_until
from tools.stripe.gateway import StripeGatewayError, StripeNotFound

T0 = 1_790_000_000  # 2026-09-21, the order key of the events below
MONTH = 30 * 86400


class FakeStripe:
    """The gateway calls billing makes, over objects a test puts in; can go unreachable."""

    label = "test fake"

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.refunds: list[dict[str, Any]] = []
        self.invoice_payments: list[dict[str, Any]] = []
        self.unreachable = False
        self.invoice_payments_error: Exception | None = None
        self.retrieved: list[tuple[str, str]] = []
        self.listed_invoices: list[str] = []

    def put(self, resource: str, obj: dict[str, Any]) -> None:
        self.objects[(resource, obj["id"])] = copy.deepcopy(obj)

    def retrieve(self, resource: str, object_id: str) -> dict[str, Any]:
        if self.unreachable:
            raise StripeGatewayError("connection reset")
        self.retrieved.append((resource, object_id))
        try:
            return copy.deepcopy(self.objects[(resource, object_id)])
        except KeyError:
            raise StripeNotFound(f"No such {resource}: '{object_id}'") from None

    def list_refunds(self, *, charge: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(r) for r in self.refunds if r["charge"] == charge]

    def list_invoice_payments(self, *, invoice: str) -> list[dict[str, Any]]:
        self.listed_invoices.append(invoice)
        if self.invoice_payments_error is not None:
            raise self.invoice_payments_error
        return [copy.deepcopy(p) for p in self.invoice_payments if p["invoice"] == invoice]

    def list_events(self, *, created_after: int) -> Iterator[dict[str, Any]]:
        fresh = [e for e in self.events if e["created"] > created_after]
        return iter(sorted(copy.deepcopy(fresh), key=lambda e: e["created"]))


class Billing:
    """Stores events in the inbox and runs their tasks through a TaskRunner, as a worker does."""

    def __init__(self, database: Database, settings: Settings, stripe: FakeStripe) -> None:
        self.database = database
        self.stripe = stripe
        self.runner = TaskRunner(
            database,
            settings,
            "billing-test",
            {"stripe": stripe, "mailer": None},
            {"billing": graph.handle},
        )

    def store(self, evt: dict[str, Any]) -> None:
        with self.database.transaction() as s:
            add_event(s, evt, source="webhook")

    def submit(self, kind: str, payload: dict[str, Any], dedupe_key: str | None = None) -> int:
        with self.database.transaction() as s:
            task_id = submit(s, kind, payload, dedupe_key=dedupe_key)
        assert task_id is not None
        return task_id

    def run(self, task_id: int) -> Task:
        """Claim the task as soon as it is due (a retry waits out its backoff), then run it."""
        claimed: list[Any] = []

        def claim() -> bool:
            task = self.runner.claim(task_id)
            if task is not None:
                claimed.append(task)
            return task is not None

        wait_until(claim, timeout=10, message=f"task {task_id} to be claimable")
        self.runner.run(claimed[0])
        return self.task(task_id)

    def deliver(self, evt: dict[str, Any]) -> str:
        """Store, run once, and return the inbox outcome."""
        self.store(evt)
        task = self.run(self.submit("stripe.event", {"event_id": evt["id"]}))
        assert task.status == TaskStatus.DONE, task.last_error
        return self.inbox(evt["id"]).outcome or ""

    def task(self, task_id: int) -> Task:
        with self.database.transaction() as s:
            task = s.get(Task, task_id)
            assert task is not None
            return task

    def inbox(self, event_id: str) -> StripeEvent:
        with self.database.transaction() as s:
            row = s.get(StripeEvent, event_id)
            assert row is not None
            return row

    def rows(self, model: type[Any], **where: Any) -> list[Any]:
        with self.database.transaction() as s:
            stmt = select(model).filter_by(**where).order_by(model.id)
            return list(s.scalars(stmt))

    def one(self, model: type[Any], **where: Any) -> Any:
        found = self.rows(model, **where)
        assert len(found) == 1, found
        return found[0]

    def followups(self, kind: str) -> list[dict[str, Any]]:
        """Payloads of tasks of `kind` that billing submitted."""
        return [t.payload for t in self.rows(Task, kind=kind)]

    def analytics_events(self) -> list[AnalyticsEvent]:
        """Business events billing recorded, in the order it recorded them."""
        return self.rows(AnalyticsEvent)


@pytest.fixture
def stripe_fake() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def billing(database: Database, settings: Settings, stripe_fake: FakeStripe) -> Billing:
    return Billing(database, settings, stripe_fake)


# Stripe objects in the 2026-10-28.endive layout, built from Stripe's published fixtures.


def customer(cus: str = "cus_ada", email: str | None = "ada@example.com") -> dict[str, Any]:
    return fixture("customer", id=cus, email=email, name="Ada Lovelace", discount=None)


def subscription(
    sub: str = "sub_ada",
    cus: str = "cus_ada",
    status: str = "active",
    *,
    quantity: int = 1,
    trial_end: int | None = None,
    ended_at: int | None = None,
) -> dict[str, Any]:
    obj = fixture(
        "subscription",
        id=sub,
        customer=cus,
        status=status,
        start_date=T0,
        trial_end=trial_end,
        canceled_at=ended_at,
        ended_at=ended_at,
        cancel_at_period_end=False,
        discounts=[
            {"id": "di_1", "object": "discount", "source": {"coupon": {"percent_off": 12.5}}}
        ],
    )
    item = obj["items"]["data"][0]
    item.update(quantity=quantity, current_period_start=T0, current_period_end=T0 + MONTH)
    item["price"].update(id="price_pro_monthly", lookup_key="pro", unit_amount=2900)
    return obj


def invoice(
    inv: str = "in_ada_1",
    cus: str = "cus_ada",
    sub: str | None = "sub_ada",
    status: str = "paid",
    *,
    amount: int = 2900,
    attempt_count: int = 1,
    payment_intent: str | None = "pi_ada_1",
) -> dict[str, Any]:
    paid = status == "paid"
    payments = (
        [
            {
                "payment": {"type": "payment_intent", "payment_intent": payment_intent},
                "status": "paid",
                "amount_paid": amount,
            }
        ]
        if paid and payment_intent
        else []
    )
    return fixture(
        "invoice",
        id=inv,
        customer=cus,
        customer_email=None,
        status=status,
        number="ADA-0001",
        amount_due=amount,
        amount_paid=amount if paid else 0,
        attempt_count=attempt_count,
        hosted_invoice_url=f"https://invoice.stripe.com/i/{inv}",
        billing_reason="subscription_cycle",
        parent={
            "type": "subscription_details",
            "subscription_details": {"subscription": sub, "metadata": {}},
        },
        payments={"object": "list", "data": payments},
        status_transitions={"paid_at": T0 if paid else None},
    )


def endive_webhook_invoice(inv: str = "in_ada_1", **overrides: Any) -> dict[str, Any]:
    """A paid invoice as endive webhooks carry it: `payments` left out, no `invoice.charge`."""
    obj = invoice(inv, **overrides)
    del obj["payments"]
    return obj


def invoice_payment(
    inv: str = "in_ada_1",
    *,
    charge: str | None = "ch_ada_1",
    intent: str | None = None,
    status: str = "paid",
    amount: int = 2900,
    paid_at: int | None = T0 + 1,
) -> dict[str, Any]:
    kind = "charge" if charge else "payment_intent"
    return fixture(
        "invoice_payment",
        id=f"inpay_{inv}_{charge or intent}",
        invoice=inv,
        currency="usd",
        amount_requested=amount,
        amount_paid=amount if status == "paid" else None,
        status=status,
        payment={"type": kind, "charge": charge, "payment_intent": intent},
        status_transitions={"canceled_at": None, "paid_at": paid_at},
    )


def charge(ch: str = "ch_ada_1", cus: str = "cus_ada", *, refunded: int = 0) -> dict[str, Any]:
    return fixture(
        "charge",
        id=ch,
        customer=cus,
        amount=2900,
        amount_captured=2900,
        amount_refunded=refunded,
        refunded=refunded == 2900,
        payment_intent="pi_ada_1",
        paid=True,
        created=T0,
        refunds=None,
    )


def refund(re: str, ch: str = "ch_ada_1", status: str = "succeeded", amount: int = 1000) -> dict:
    return fixture("refund", id=re, charge=ch, amount=amount, status=status, created=T0 + 50)


def checkout(payment_status: str, cs: str = "cs_ada", mode: str = "payment") -> dict[str, Any]:
    return fixture(
        "checkout.session",
        id=cs,
        customer="cus_ada",
        mode=mode,
        payment_status=payment_status,
        status="complete",
        payment_intent="pi_ada_checkout",
        amount_total=4900,
        currency="usd",
    )


# Customers.


def test_customer_events_mirror_the_customer_and_deletion_keeps_the_row(billing: Billing) -> None:
    assert billing.deliver(event("customer.created", customer(), created=T0)) == "applied"
    renamed = customer(email="ada@analytical.engine")
    assert billing.deliver(event("customer.updated", renamed, created=T0 + 5)) == "applied"
    gone = {"id": "cus_ada", "object": "customer", "deleted": True}
    assert billing.deliver(event("customer.deleted", gone, created=T0 + 9)) == "applied"

    row = billing.one(Customer, stripe_customer_id="cus_ada")
    assert row.email == "ada@analytical.engine" and row.name == "Ada Lovelace"
    assert row.deleted_at is not None and int(row.deleted_at.timestamp()) == T0 + 9
    assert row.stripe_watermark == T0 + 9


# Subscriptions.


def test_subscription_created_mirrors_plan_period_discount_and_follows_up(
    billing: Billing,
) -> None:
    billing.deliver(event("customer.created", customer(), created=T0 - 10))
    evt = event("customer.subscription.created", subscription(quantity=2), created=T0)
    assert billing.deliver(evt) == "applied"

    sub = billing.one(Subscription, stripe_subscription_id="sub_ada")
    assert (sub.status, sub.plan, sub.stripe_price_id) == ("active", "pro", "price_pro_monthly")
    assert (sub.unit_amount, sub.quantity, sub.currency) == (2900, 2, "usd")
    assert (sub.interval, sub.interval_count) == ("month", 1)
    assert sub.discount_percent_off == "12.5" and sub.discount_amount_off is None
    assert sub.current_period_start is not None and sub.current_period_end is not None
    assert int(sub.current_period_end.timestamp()) == T0 + MONTH
    assert sub.stripe_watermark == T0
    version = billing.one(SubscriptionVersion, stripe_subscription_id="sub_ada")
    assert version.status == "active" and int(version.valid_from.timestamp()) == T0

    customer_id = billing.one(Customer).id
    assert billing.followups("provisioning.sync") == [{"customer_id": customer_id}]
    [started] = billing.analytics_events()
    assert started.type == "subscription_started" and started.amount == 5800
    assert started.dedupe_key == f"analytics:{evt['id']}:subscription_started"
    [welcome] = billing.followups("notification.send")
    assert welcome["template"] == "welcome" and welcome["key"] == "welcome:cus_ada"
    assert welcome["customer_id"] == customer_id


def test_subscription_deleted_records_churn_and_tells_the_customer_once(billing: Billing) -> None:
    billing.deliver(event("customer.subscription.created", subscription(), created=T0))
    ended = subscription(status="canceled", ended_at=T0 + 100)
    deleted = event("customer.subscription.deleted", ended, created=T0 + 100)
    assert billing.deliver(deleted) == "applied"
    assert billing.deliver(deleted) == "applied"

    sub = billing.one(Subscription)
    assert sub.status == "canceled" and sub.ended_at is not None
    kinds = [e.type for e in billing.analytics_events()]
    assert kinds == ["subscription_started", "subscription_canceled"]
    canceled = [p for p in billing.followups("notification.send") if p["template"] != "welcome"]
    assert len(canceled) == 1 and canceled[0]["template"] == "subscription_canceled"
    assert canceled[0]["context"]["plan"] == "pro"


def test_trial_will_end_warns_only_while_that_trial_is_still_running(billing: Billing) -> None:
    trial_end = T0 + 3 * 86400
    trialing = subscription(status="trialing", trial_end=trial_end)
    billing.deliver(event("customer.subscription.trial_will_end", trialing, created=T0))
    [warning] = [p for p in billing.followups("notification.send") if p["template"] != "welcome"]
    assert warning["template"] == "trial_ending"
    assert warning["context"]["plan"] == "pro"

    other = subscription(sub="sub_bob", status="active", trial_end=trial_end)
    billing.deliver(event("customer.subscription.created", other, created=T0 + 10))
    late = subscription(sub="sub_bob", status="trialing", trial_end=trial_end)
    assert billing.deliver(event("customer.subscription.trial_will_end", late, created=T0)) == (
        "stale"
    )
    templates = [p["template"] for p in billing.followups("notification.send")]
    assert templates.count("trial_ending") == 1


def test_subscription_updated_before_created_ends_in_the_updated_state(billing: Billing) -> None:
    newer = subscription(status="active", quantity=3)
    older = subscription(status="incomplete", quantity=1)
    assert billing.deliver(event("customer.subscription.updated", newer, created=T0 + 60)) == (
        "applied"
    )
    assert billing.deliver(event("customer.subscription.created", older, created=T0)) == "stale"

    sub = billing.one(Subscription)
    assert (sub.status, sub.quantity, sub.stripe_watermark) == ("active", 3, T0 + 60)
    history = billing.rows(SubscriptionVersion, stripe_subscription_id="sub_ada")
    assert sorted((int(v.valid_from.timestamp()), v.status) for v in history) == [
        (T0, "incomplete"),
        (T0 + 60, "active"),
    ]
    assert [e.type for e in billing.analytics_events()] == ["subscription_started"]


def test_stale_event_changes_nothing_and_triggers_no_work(billing: Billing) -> None:
    billing.deliver(event("customer.subscription.updated", subscription(quantity=2), created=T0))
    before = billing.followups("provisioning.sync")
    late = event("customer.subscription.updated", subscription(status="past_due"), created=T0 - 1)
    assert billing.deliver(late) == "stale"

    sub = billing.one(Subscription)
    assert (sub.status, sub.quantity, sub.stripe_watermark) == ("active", 2, T0)
    assert billing.followups("provisioning.sync") == before
    assert billing.inbox(late["id"]).handled_at is not None


def test_same_second_events_are_settled_by_stripes_current_state(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.put("subscription", subscription(status="active"))
    activated = subscription(status="active")
    created = subscription(status="incomplete")
    billing.deliver(event("customer.subscription.updated", activated, created=T0))
    assert billing.deliver(event("customer.subscription.created", created, created=T0)) == (
        "applied"
    )
    assert billing.one(Subscription).status == "active"
    assert ("subscription", "sub_ada") in stripe_fake.retrieved


# Missing parents.


def test_subscription_before_its_customer_fetches_the_customer_from_stripe(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.put("customer", customer(email="ada@fetched.example"))
    billing.deliver(event("customer.subscription.created", subscription(), created=T0))

    row = billing.one(Customer)
    assert row.email == "ada@fetched.example" and row.stripe_watermark == T0
    assert billing.one(Subscription).customer_id == row.id
    older = customer(email="ada@old.example")
    assert billing.deliver(event("customer.created", older, created=T0 - 30)) == "stale"
    assert billing.one(Customer).email == "ada@fetched.example"


def test_customer_unknown_to_stripe_becomes_a_stub_that_customer_created_fills(
    billing: Billing,
) -> None:
    billing.deliver(event("customer.subscription.created", subscription(), created=T0))
    stub = billing.one(Customer)
    assert stub.stripe_customer_id == "cus_ada" and stub.email is None
    assert stub.stripe_watermark == 0
    billing.deliver(event("customer.created", customer(), created=T0 - 30))
    assert billing.one(Customer).email == "ada@example.com"


def test_stripe_unreachable_for_a_missing_parent_retries_and_drops_nothing(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.put("customer", customer())
    stripe_fake.unreachable = True
    evt = event("customer.subscription.created", subscription(), created=T0)
    billing.store(evt)
    task_id = billing.submit("stripe.event", {"event_id": evt["id"]})
    failed = billing.run(task_id)
    assert failed.status == TaskStatus.PENDING and "Stripe unreachable" in (failed.last_error or "")
    assert billing.rows(Subscription) == [] and billing.inbox(evt["id"]).handled_at is None

    stripe_fake.unreachable = False
    assert billing.run(task_id).status == TaskStatus.DONE
    assert billing.one(Subscription).status == "active"
    assert billing.one(Customer).email == "ada@example.com"


# Invoices.


def test_invoice_paid_before_the_subscription_exists_ends_correct(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.put("customer", customer())
    assert billing.deliver(event("invoice.paid", invoice(), created=T0 + 2)) == "applied"
    billing.deliver(event("customer.subscription.created", subscription(), created=T0))

    inv = billing.one(Invoice)
    assert (inv.status, inv.amount_paid, inv.stripe_subscription_id) == ("paid", 2900, "sub_ada")
    assert billing.one(Subscription).status == "active"
    payment = billing.one(Payment)
    assert payment.stripe_payment_intent_id == "pi_ada_1" and payment.amount == 2900
    assert payment.stripe_invoice_id == "in_ada_1" and payment.customer_id == inv.customer_id
    assert len(billing.rows(Customer)) == 1 and stripe_fake.retrieved == [("customer", "cus_ada")]
    [receipt] = [p for p in billing.followups("notification.send") if p["template"] == "receipt"]
    assert receipt["key"] == "receipt:in_ada_1"
    assert receipt["context"] == {
        "amount": 2900,
        "currency": "usd",
        "invoice_number": "ADA-0001",
        "hosted_invoice_url": "https://invoice.stripe.com/i/in_ada_1",
    }


def test_invoice_paid_without_payments_fetches_them_into_a_payment_with_the_charge(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.put("customer", customer())
    stripe_fake.invoice_payments += [
        invoice_payment(charge=None, intent="pi_ada_declined", status="canceled"),
        invoice_payment(charge="ch_ada_1", paid_at=T0 + 1),
        invoice_payment("in_someone_else", charge="ch_other"),
    ]
    assert billing.deliver(event("invoice.paid", endive_webhook_invoice(), created=T0 + 2)) == (
        "applied"
    )

    inv = billing.one(Invoice)
    payment = billing.one(Payment)
    assert (payment.stripe_charge_id, payment.stripe_payment_intent_id) == ("ch_ada_1", None)
    assert (payment.amount, payment.currency, payment.status) == (2900, "usd", "succeeded")
    assert payment.paid_at is not None and int(payment.paid_at.timestamp()) == T0 + 1
    assert payment.customer_id == inv.customer_id and payment.stripe_invoice_id == "in_ada_1"
    assert stripe_fake.listed_invoices == ["in_ada_1"]


def test_payment_succeeded_after_paid_lists_again_but_keeps_one_payment(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.invoice_payments.append(invoice_payment(charge=None, intent="pi_ada_1"))
    paid = endive_webhook_invoice()
    billing.deliver(event("invoice.paid", paid, created=T0 + 2))
    billing.deliver(event("invoice.payment_succeeded", paid, created=T0 + 2))

    payment = billing.one(Payment)
    assert (payment.stripe_charge_id, payment.stripe_payment_intent_id) == (None, "pi_ada_1")
    assert stripe_fake.listed_invoices == ["in_ada_1", "in_ada_1"]
    assert [p["template"] for p in billing.followups("notification.send")] == ["receipt"]


def test_invoice_payments_unreachable_retries_the_task_and_applies_nothing(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.put("customer", customer())
    stripe_fake.invoice_payments.append(invoice_payment())
    stripe_fake.invoice_payments_error = StripeGatewayError("connection reset")
    paid = event("invoice.paid", endive_webhook_invoice(), created=T0 + 2)
    billing.store(paid)
    task_id = billing.submit("stripe.event", {"event_id": paid["id"]})

    failed = billing.run(task_id)
    assert failed.status == TaskStatus.PENDING
    assert "Stripe unreachable listing payments of invoice in_ada_1" in (failed.last_error or "")
    for model in (Customer, Invoice, Payment):
        assert billing.rows(model) == []
    assert billing.inbox(paid["id"]).handled_at is None
    assert billing.followups("notification.send") == []
    assert billing.analytics_events() == []

    stripe_fake.invoice_payments_error = None
    assert billing.run(task_id).status == TaskStatus.DONE
    assert billing.one(Payment).stripe_charge_id == "ch_ada_1"
    assert billing.one(Invoice).status == "paid"
    assert [p["template"] for p in billing.followups("notification.send")] == ["receipt"]


def test_invoice_payments_unknown_to_stripe_mirror_the_invoice_without_a_payment(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.invoice_payments_error = StripeNotFound("Unrecognized request URL")
    assert billing.deliver(event("invoice.paid", endive_webhook_invoice(), created=T0)) == (
        "applied"
    )

    assert billing.one(Invoice).status == "paid" and billing.rows(Payment) == []
    assert [p["template"] for p in billing.followups("notification.send")] == ["receipt"]


def test_first_page_of_included_payments_is_completed_from_stripe(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    first_half = invoice_payment(charge="ch_ada_a", amount=1500, paid_at=T0)
    second_half = invoice_payment(charge="ch_ada_b", amount=1400, paid_at=T0 + 1)
    stripe_fake.invoice_payments += [first_half, second_half]
    paid = invoice()
    paid["payments"] = {"object": "list", "data": [first_half], "has_more": True}
    billing.deliver(event("invoice.paid", paid, created=T0 + 2))

    payments = {p.stripe_charge_id: p.amount for p in billing.rows(Payment)}
    assert payments == {"ch_ada_a": 1500, "ch_ada_b": 1400}


def test_same_event_applied_five_times_has_one_set_of_effects(
    database: Database,
    settings: Settings,
    redis_client: Any,
    transport: StreamTransport,
    billing: Billing,
    stripe_fake: FakeStripe,
) -> None:
    stripe_fake.put("customer", customer())
    paid = event("invoice.paid", invoice(), created=T0)
    billing.store(paid)
    runtime = Runtime(settings, database, redis_client, transport, {"stripe": stripe_fake})
    worker = Worker(runtime, ["billing"], concurrency=3, handlers={"billing": graph.handle})
    worker.start()
    try:
        ids = [billing.submit("stripe.event", {"event_id": paid["id"]}) for _ in range(5)]
        wait_until(lambda: all(billing.task(i).status == TaskStatus.DONE for i in ids))
    finally:
        worker.stop()
        worker.join(5)

    assert {billing.task(i).result["outcome"] for i in ids} == {"applied"}  # type: ignore[index]
    assert len(billing.rows(Invoice)) == 1 and len(billing.rows(Payment)) == 1
    assert len(billing.rows(Customer)) == 1
    assert [p["template"] for p in billing.followups("notification.send")] == ["receipt"]
    assert [e.type for e in billing.analytics_events()] == ["payment_succeeded"]


def test_payment_failed_notifies_per_attempt_but_not_after_the_invoice_was_paid(
    billing: Billing,
) -> None:
    first = invoice(status="open", attempt_count=1)
    billing.deliver(event("invoice.payment_failed", first, created=T0))
    billing.deliver(event("invoice.paid", invoice(attempt_count=2), created=T0 + 200))
    late = invoice(status="open", attempt_count=2)
    assert billing.deliver(event("invoice.payment_failed", late, created=T0 + 100)) == "stale"

    assert billing.one(Invoice).status == "paid"
    sent = [(p["template"], p["key"]) for p in billing.followups("notification.send")]
    assert sent == [
        ("payment_failed", "payment_failed:in_ada_1:1"),
        ("receipt", "receipt:in_ada_1"),
    ]
    failed = [e for e in billing.analytics_events() if e.type == "payment_failed"]
    assert len(failed) == 2 and failed[0].amount == 2900


def test_payment_action_required_sends_the_hosted_invoice_link(billing: Billing) -> None:
    needs_action = invoice(status="open", attempt_count=1)
    billing.deliver(event("invoice.payment_action_required", needs_action, created=T0))
    [note] = billing.followups("notification.send")
    assert note["template"] == "action_required"
    assert note["context"]["hosted_invoice_url"] == "https://invoice.stripe.com/i/in_ada_1"


# Checkout.


def test_unpaid_checkout_is_fulfilled_only_after_async_payment_succeeded(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.put("customer", customer())
    unpaid = event("checkout.session.completed", checkout("unpaid"), created=T0)
    assert billing.deliver(unpaid) == "ignored"
    assert billing.rows(Payment) == [] and billing.rows(Customer) == []
    assert billing.followups("provisioning.sync") == []
    assert billing.followups("notification.send") == []

    paid = event("checkout.session.async_payment_succeeded", checkout("paid"), created=T0 + 60)
    assert billing.deliver(paid) == "applied"
    payment = billing.one(Payment, stripe_payment_intent_id="pi_ada_checkout")
    assert (payment.amount, payment.status) == (4900, "succeeded")
    assert billing.followups("provisioning.sync") == [{"customer_id": payment.customer_id}]
    [welcome] = billing.followups("notification.send")
    assert welcome["template"] == "welcome" and welcome["to"] == "example@example.com"


def test_async_payment_failed_checkout_tells_the_customer(billing: Billing) -> None:
    failed = event("checkout.session.async_payment_failed", checkout("unpaid"), created=T0)
    assert billing.deliver(failed) == "applied"
    [note] = billing.followups("notification.send")
    assert note["template"] == "payment_failed" and note["key"] == "payment_failed:cs_ada"
    assert note["context"]["amount"] == 4900
    assert billing.rows(Payment) == []


# Refunds and disputes.


def test_charge_refunded_mirrors_refunds_and_tells_the_customer_once(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.put("customer", customer())
    stripe_fake.refunds.append(refund("re_1", status="pending"))
    refunded = event("charge.refunded", charge(refunded=1000), created=T0 + 50)
    assert billing.deliver(refunded) == "applied"
    payment = billing.one(Payment, stripe_charge_id="ch_ada_1")
    assert (payment.amount, payment.amount_refunded) == (2900, 1000)
    assert billing.one(Refund).status == "pending"
    assert billing.followups("notification.send") == []

    succeeded = event("refund.updated", refund("re_1"), created=T0 + 80)
    assert billing.deliver(succeeded) == "applied"
    assert billing.deliver(succeeded) == "applied"
    row = billing.one(Refund)
    assert (row.status, row.payment_id, row.amount) == ("succeeded", payment.id, 1000)
    [note] = billing.followups("notification.send")
    assert note["key"] == "refund_issued:re_1"
    assert note["context"] == {"amount": 1000, "currency": "usd"}
    [counted] = billing.analytics_events()
    assert counted.type == "refund" and counted.amount == 1000
    assert len(billing.followups("provisioning.sync")) == 2


def test_dispute_on_an_unmirrored_charge_fetches_it_then_records_open_and_close(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.put("customer", customer())
    stripe_fake.put("charge", charge())
    opened = fixture("dispute", id="dp_1", charge="ch_ada_1", amount=2900)
    assert billing.deliver(event("charge.dispute.created", opened, created=T0)) == "applied"
    closed = fixture("dispute", id="dp_1", charge="ch_ada_1", amount=2900, status="lost")
    assert billing.deliver(event("charge.dispute.closed", closed, created=T0 + 9)) == "applied"

    dispute = billing.one(Dispute)
    payment = billing.one(Payment)
    assert (dispute.status, dispute.payment_id) == ("lost", payment.id)
    customer_id = billing.one(Customer).id
    assert payment.customer_id == customer_id
    facts = billing.analytics_events()
    assert [(f.type, f.data["status"]) for f in facts] == [
        ("dispute_opened", "warning_needs_response"),
        ("dispute_closed", "lost"),
    ]
    assert billing.followups("provisioning.sync") == [{"customer_id": customer_id}] * 2


def test_unknown_event_type_is_marked_ignored(billing: Billing) -> None:
    evt = event("payout.paid", fixture("payout"), created=T0)
    assert billing.deliver(evt) == "ignored"
    assert billing.analytics_events() == []


# Reconciliation.


def test_reconcile_inserts_and_queues_only_unseen_events(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    seen = event("customer.created", customer(), created=T0)
    missed = event("customer.updated", customer(email="ada@new.example"), created=T0 + 10)
    billing.deliver(seen)
    stripe_fake.events.extend([seen, missed])

    first = billing.run(billing.submit("stripe.reconcile", {}))
    assert first.result == {"since": T0 - 86400, "listed": 2, "inserted": 1}
    assert billing.inbox(missed["id"]).source == "reconcile"
    [queued] = billing.rows(Task, dedupe_key=f"stripe-event:{missed['id']}")
    assert queued.payload == {"event_id": missed["id"]}
    again = billing.run(billing.submit("stripe.reconcile", {"since": T0 - 1}))
    assert again.result == {"since": T0 - 1, "listed": 2, "inserted": 0}

    billing.run(queued.id)
    assert billing.one(Customer).email == "ada@new.example"
