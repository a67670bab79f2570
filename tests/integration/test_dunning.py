"""Dunning with a frozen clock: reminders on day 0, 3, 5 and 7, restrict, cancel; it stops on
payment, jumps to the final notice after a hard decline, and re-runs change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.clock import frozen
from db.models import DunningCase, DunningStatus, Entitlement, ExternalCall
from db.repositories.analytics import payment_totals
from db.session import Database
from orchestrator.outbox import submit
from scheduler.jobs import SCHEDULED_TASKS, submit_for_slot
from tests.support.invoicing import (
    InvoicingScene,
    invoice_event,
    invoice_line,
    sandbox_scene,  # noqa: F401  (a fixture)
    stripe_customer,
    stripe_invoice,
    stripe_subscription,
)
from tests.support.stripe_events import event
from tools.stripe.sandbox import SandboxGateway

FAILED_AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
PERIOD = (datetime(2026, 11, 2, 9, 0, tzinfo=UTC), datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
DAY = timedelta(days=1)
SUBSCRIPTION = stripe_subscription(
    "sub_ada", "cus_ada", status="active", plan="pro", amount=9900, period=PERIOD
)
SWEEP = next(task for task in SCHEDULED_TASKS if task.name == "dunning_advance")


@pytest.fixture
def sandbox(tmp_path: Path) -> SandboxGateway:
    stripe = SandboxGateway(tmp_path / "sandbox.db")
    stripe.put("customer", stripe_customer("cus_ada", "ada@example.com"))
    stripe.put("subscription", SUBSCRIPTION)
    return stripe


@pytest.fixture
def scene(sandbox_scene: InvoicingScene) -> InvoicingScene:  # noqa: F811
    """Ada, subscribed to Pro, as billing has mirrored her subscription."""
    with frozen(PERIOD[0]):
        sandbox_scene.deliver(event("customer.subscription.created", SUBSCRIPTION, created=1))
    return sandbox_scene


def open_invoice(attempt: int = 1) -> dict[str, Any]:
    line = invoice_line("il_pro", 9900, description="Pro x 1", price="price_pro")
    return stripe_invoice(
        "in_ada_1", "cus_ada", "sub_ada", status="open", lines=[line], attempt_count=attempt
    )


def paid_invoice(paid_at: datetime) -> dict[str, Any]:
    line = invoice_line("il_pro", 9900, description="Pro x 1", price="price_pro")
    return stripe_invoice(
        "in_ada_1", "cus_ada", "sub_ada", status="paid", lines=[line], paid_at=paid_at
    )


def the_case(database: Database) -> DunningCase:
    with database.transaction() as session:
        case = session.scalars(select(DunningCase)).one()
        session.expunge(case)
        return case


def reminders(scene: InvoicingScene) -> list[tuple[str, bool, int]]:
    return [
        (p["key"], p["context"]["final"], p["context"]["days_overdue"])
        for p in scene.queued("notification.send")
        if p["template"] == "dunning_reminder"
    ]


def sweep(scene: InvoicingScene, fire_time: datetime) -> int | None:
    """The scheduler firing the dunning slot at `fire_time` (twice: one task), then the agents."""
    with frozen(fire_time):
        first = submit_for_slot(scene.database, SWEEP, fire_time, max_attempts=8)
        again = submit_for_slot(scene.database, SWEEP, fire_time, max_attempts=8)
        assert again is None
        scene.drain()
    return first


def entitlement_statuses(database: Database) -> dict[str, tuple[str, str | None]]:
    with database.transaction() as session:
        return {e.feature: (e.status, e.reason) for e in session.scalars(select(Entitlement))}


def test_the_schedule_reminds_on_days_0_3_5_7_then_restricts_then_cancels(
    scene: InvoicingScene, database: Database, sandbox: SandboxGateway
) -> None:
    with frozen(FAILED_AT):
        scene.deliver(invoice_event("invoice.payment_failed", open_invoice(), FAILED_AT))
    case = the_case(database)
    assert (case.status, case.step, case.next_action) == (DunningStatus.OPEN, 1, "remind")
    assert case.next_due_at == FAILED_AT + 3 * DAY
    assert reminders(scene) == [("dunning:in_ada_1:0", False, 0)]

    sweep(scene, FAILED_AT + 2 * DAY)  # nothing is due yet
    assert len(reminders(scene)) == 1
    for day in (3, 5, 7):
        sweep(scene, FAILED_AT + day * DAY)
    assert reminders(scene) == [
        ("dunning:in_ada_1:0", False, 0),
        ("dunning:in_ada_1:1", False, 3),
        ("dunning:in_ada_1:2", False, 5),
        ("dunning:in_ada_1:3", True, 7),
    ]
    [reminder] = [p for p in scene.queued("notification.send") if p["key"].endswith(":3")]
    assert reminder["context"]["amount"] == 9900
    assert reminder["context"]["hosted_invoice_url"] == "https://invoice.stripe.com/i/in_ada_1"
    assert entitlement_statuses(database)["api_calls"][0] == "active"

    sweep(scene, FAILED_AT + 10 * DAY)
    assert the_case(database).restricted is True
    assert set(entitlement_statuses(database).values()) <= {
        ("revoked", "dunning_restricted"),
        ("active", None),  # the free plan's grants stay
    }
    assert ("revoked", "dunning_restricted") in entitlement_statuses(database).values()

    sweep(scene, FAILED_AT + 14 * DAY)
    case = the_case(database)
    assert (case.status, case.next_action, case.next_due_at) == (DunningStatus.CANCELED, None, None)
    assert sandbox.get("subscription", "sub_ada")["status"] == "canceled"  # type: ignore[index]
    with database.transaction() as session:
        [call] = session.scalars(select(ExternalCall)).all()
        assert (call.idempotency_key, call.status) == ("dunning_cancel:in_ada_1", "succeeded")

    # Re-runs: later slots, a replayed step task and Stripe's cancel event change nothing.
    sweep(scene, FAILED_AT + 15 * DAY)
    with frozen(FAILED_AT + 15 * DAY):
        with database.transaction() as session:
            submit(session, "dunning.step", {"case_id": case.id, "step": 5})
        scene.drain()
        canceled = sandbox.get("subscription", "sub_ada")
        assert canceled is not None
        scene.deliver(event("customer.subscription.deleted", canceled, created=2_000_000_000))
    assert len(reminders(scene)) == 4
    assert the_case(database).status == DunningStatus.CANCELED
    with database.transaction() as session:
        assert len(session.scalars(select(ExternalCall)).all()) == 1


def test_payment_stops_dunning_at_once_and_is_recorded_as_a_recovery(
    scene: InvoicingScene, database: Database, sandbox: SandboxGateway
) -> None:
    with frozen(FAILED_AT):
        scene.deliver(invoice_event("invoice.payment_failed", open_invoice(), FAILED_AT))
    sweep(scene, FAILED_AT + 3 * DAY)
    paid_at = FAILED_AT + 4 * DAY + timedelta(hours=2)
    with frozen(paid_at):
        scene.deliver(invoice_event("invoice.paid", paid_invoice(paid_at), paid_at))
    case = the_case(database)
    assert (case.status, case.recovered_amount, case.days_to_recover) == (
        DunningStatus.RECOVERED,
        9900,
        4,
    )
    assert case.closed_at == paid_at and case.next_due_at is None

    for day in (5, 7, 10, 14):
        sweep(scene, FAILED_AT + day * DAY)
    assert len(reminders(scene)) == 2
    assert sandbox.get("subscription", "sub_ada")["status"] == "active"  # type: ignore[index]

    # Analytics counts the same story: one failed attempt, one recovered payment of 9900.
    with database.transaction() as session:
        totals = payment_totals(session, FAILED_AT - DAY, paid_at + DAY)
    recovered = [(n, amount) for _, plan, status, n, amount in totals if status == "recovered"]
    failed = [(n, amount) for _, plan, status, n, amount in totals if status == "failed"]
    assert recovered == [(1, 9900)] and failed == [(1, 9900)]


def test_a_hard_decline_skips_the_reminders_for_the_final_notice_and_stops_retries(
    scene: InvoicingScene, database: Database, sandbox: SandboxGateway
) -> None:
    invoice = open_invoice()
    sandbox.put("invoice", invoice)
    sandbox.put(
        "invoice_payment",
        {
            "id": "inpay_1",
            "invoice": "in_ada_1",
            "status": "open",
            "payment": {"type": "payment_intent", "payment_intent": "pi_ada_1"},
        },
    )
    sandbox.put(
        "payment_intent",
        {
            "id": "pi_ada_1",
            "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined", "decline_code": "stolen_card"},
        },
    )
    with frozen(FAILED_AT):
        scene.deliver(invoice_event("invoice.payment_failed", invoice, FAILED_AT))

    case = the_case(database)
    assert (case.hard_decline, case.decline_code) == (True, "stolen_card")
    assert reminders(scene) == [("dunning:in_ada_1:3", True, 0)]
    assert sandbox.get("invoice", "in_ada_1")["auto_advance"] is False  # type: ignore[index]
    # The steps after the final notice keep their spacing from it: restrict 3 days later.
    assert (case.step, case.next_action, case.next_due_at) == (4, "restrict", FAILED_AT + 3 * DAY)

    # A second failed attempt (had Stripe retried) sends nothing new.
    with frozen(FAILED_AT + DAY):
        scene.deliver(invoice_event("invoice.payment_failed", open_invoice(2), FAILED_AT + DAY))
    sweep(scene, FAILED_AT + 3 * DAY)
    sweep(scene, FAILED_AT + 7 * DAY)
    assert reminders(scene) == [("dunning:in_ada_1:3", True, 0)]
    assert the_case(database).status == DunningStatus.CANCELED


def test_a_voided_invoice_closes_its_case(scene: InvoicingScene, database: Database) -> None:
    with frozen(FAILED_AT):
        scene.deliver(invoice_event("invoice.payment_failed", open_invoice(), FAILED_AT))
    voided = {**open_invoice(), "status": "void"}
    with frozen(FAILED_AT + DAY):
        scene.deliver(invoice_event("invoice.voided", voided, FAILED_AT + DAY))
    sweep(scene, FAILED_AT + 3 * DAY)
    case = the_case(database)
    assert (case.status, case.closed_at, case.recovered_amount) == (
        DunningStatus.VOIDED,
        FAILED_AT + DAY,
        None,
    )
    assert len(reminders(scene)) == 1


def test_a_step_queued_twice_is_done_once(scene: InvoicingScene, database: Database) -> None:
    with frozen(FAILED_AT):
        scene.deliver(invoice_event("invoice.payment_failed", open_invoice(), FAILED_AT))
    case = the_case(database)
    with frozen(FAILED_AT + 3 * DAY):
        with database.transaction() as session:  # a restarted sweep and an operator, say
            for _ in range(2):
                submit(session, "dunning.step", {"case_id": case.id, "step": case.step})
        scene.drain()
    assert [key for key, _, _ in reminders(scene)] == ["dunning:in_ada_1:0", "dunning:in_ada_1:1"]
    assert the_case(database).step == case.step + 1


def test_a_subscription_canceled_elsewhere_ends_its_dunning(
    scene: InvoicingScene, database: Database
) -> None:
    with frozen(FAILED_AT):
        scene.deliver(invoice_event("invoice.payment_failed", open_invoice(), FAILED_AT))
    ended = {**SUBSCRIPTION, "status": "canceled", "canceled_at": 1_793_700_000}
    ended["ended_at"] = 1_793_700_000
    with frozen(FAILED_AT + DAY):
        scene.deliver(event("customer.subscription.deleted", ended, created=1_793_700_000))
    sweep(scene, FAILED_AT + 3 * DAY)
    case = the_case(database)
    assert (case.status, case.next_action) == (DunningStatus.SUBSCRIPTION_CANCELED, None)
    assert case.closed_at == datetime.fromtimestamp(1_793_700_000, UTC)
    assert len(reminders(scene)) == 1
