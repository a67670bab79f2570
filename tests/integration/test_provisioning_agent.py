"""The provisioning agent over a real database, run as tasks through the task runtime."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from agents.provisioning.graph import handle
from core.clock import frozen
from core.settings import Settings
from db.models import (
    AuditEntry,
    Customer,
    Dispute,
    Entitlement,
    Invoice,
    Payment,
    Subscription,
    SubscriptionVersion,
    Task,
    TaskStatus,
)
from db.repositories.entitlements import has_feature
from db.session import Database
from orchestrator.outbox import submit
from orchestrator.runtime import TaskRunner

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def run_task(database: Database, settings: Settings, task_id: int, at: datetime) -> Any:
    """Claim and run one task at time `at`; None when it is not claimable then."""
    with frozen(at):
        runner = TaskRunner(database, settings, "test-worker", {}, {"provisioning": handle})
        task = runner.claim(task_id)
        if task is None:
            return None
        outcome = runner.run(task)
    assert outcome.status == TaskStatus.DONE, outcome.error
    with database.transaction() as s:
        return s.get(Task, task_id).result  # type: ignore[union-attr]


def sync(database: Database, settings: Settings, customer_id: int, at: datetime) -> Any:
    with frozen(at), database.transaction() as s:
        task_id = submit(s, "provisioning.sync", {"customer_id": customer_id})
    assert task_id is not None
    return run_task(database, settings, task_id, at)


def make_customer(database: Database) -> int:
    with database.transaction() as s:
        customer = Customer(stripe_customer_id=f"cus_{uuid.uuid4().hex[:12]}", email="a@b.c")
        s.add(customer)
        s.flush()
        return customer.id


def set_subscription(
    database: Database, customer_id: int, status: str, at: datetime, plan: str = "pro"
) -> str:
    """Record the customer's subscription (one per customer here) as of `at`, with its version."""
    sid = f"sub_{customer_id}"
    with database.transaction() as s:
        sub = s.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sid))
        row = sub.one_or_none() or Subscription(stripe_subscription_id=sid, customer_id=customer_id)
        row.status, row.plan, row.current_period_start = status, plan, T0
        s.add(row)
        s.add(
            SubscriptionVersion(
                stripe_subscription_id=sid,
                customer_id=customer_id,
                valid_from=at,
                status=status,
                plan=plan,
            )
        )
    return sid


def pay_invoice(database: Database, customer_id: int, sid: str, amount: int = 4900) -> int:
    with database.transaction() as s:
        invoice_id = f"in_{uuid.uuid4().hex[:12]}"
        s.add(
            Invoice(
                stripe_invoice_id=invoice_id,
                customer_id=customer_id,
                stripe_subscription_id=sid,
                status="paid",
                amount_due=amount,
                amount_paid=amount,
                currency="usd",
                paid_at=T0,
            )
        )
        payment = Payment(
            stripe_charge_id=f"ch_{uuid.uuid4().hex[:12]}",
            customer_id=customer_id,
            stripe_invoice_id=invoice_id,
            amount=amount,
            currency="usd",
            status="succeeded",
            paid_at=T0,
        )
        s.add(payment)
        s.flush()
        return payment.id


def rows(database: Database, customer_id: int) -> dict[str, Entitlement]:
    with database.transaction() as s:
        found = s.scalars(select(Entitlement).where(Entitlement.customer_id == customer_id))
        return {row.feature: row for row in found}


def holds(database: Database, customer_id: int, feature: str, at: datetime) -> bool:
    with frozen(at), database.transaction() as s:
        return has_feature(s, customer_id, feature)


def test_active_subscription_grants_plan_features_one_row_each(
    database: Database, settings: Settings
) -> None:
    customer_id = make_customer(database)
    set_subscription(database, customer_id, "active", T0)
    result = sync(database, settings, customer_id, T0 + timedelta(minutes=1))
    granted = rows(database, customer_id)
    assert {f for f, r in granted.items() if r.status == "active"} == {
        "api_calls",
        "seats",
        "projects",
        "ai_tokens",
        "priority_support",
    }
    assert granted["seats"].limit_value == 20 and granted["seats"].plan == "pro"
    assert {c["action"] for c in result["changes"]} == {"entitlement.granted"}
    assert holds(database, customer_id, "priority_support", T0 + timedelta(minutes=2))
    assert not holds(database, customer_id, "sso", T0 + timedelta(minutes=2))


def test_rerunning_sync_changes_nothing_and_audits_nothing(
    database: Database, settings: Settings
) -> None:
    customer_id = make_customer(database)
    set_subscription(database, customer_id, "trialing", T0)
    sync(database, settings, customer_id, T0 + timedelta(minutes=1))
    with database.transaction() as s:
        audits = s.scalar(select(func.count()).select_from(AuditEntry))
    again = sync(database, settings, customer_id, T0 + timedelta(minutes=2))
    assert again["changes"] == []
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audits
        actors = set(s.scalars(select(AuditEntry.actor)))
    assert actors == {"agent:provisioning"}


def test_past_due_keeps_access_in_grace_then_delayed_task_revokes_it(
    database: Database, settings: Settings
) -> None:
    customer_id = make_customer(database)
    set_subscription(database, customer_id, "active", T0)
    sync(database, settings, customer_id, T0 + timedelta(minutes=1))
    failed_at = T0 + timedelta(days=30)
    set_subscription(database, customer_id, "past_due", failed_at)
    set_subscription(database, customer_id, "past_due", failed_at + timedelta(days=3))  # retry
    grace_until = failed_at + timedelta(days=settings.grace_period_days)

    result = sync(database, settings, customer_id, failed_at + timedelta(days=4))
    assert result["grace_until"] == grace_until.isoformat()
    in_grace = rows(database, customer_id)
    assert {r.status for r in in_grace.values()} == {"grace"}
    assert in_grace["seats"].grace_until == grace_until
    assert holds(database, customer_id, "priority_support", grace_until - timedelta(seconds=1))

    with database.transaction() as s:
        check = s.scalars(
            select(Task).where(
                Task.dedupe_key == f"provision-grace:{customer_id}:{grace_until.isoformat()}"
            )
        ).one()
        assert check.available_at == grace_until and check.kind == "provisioning.sync"
    assert run_task(database, settings, check.id, grace_until - timedelta(seconds=1)) is None
    run_task(database, settings, check.id, grace_until)

    after = rows(database, customer_id)
    assert after["priority_support"].status == "revoked"
    assert after["priority_support"].reason == "grace_expired"
    assert after["seats"].status == "active" and after["seats"].plan == "free"
    assert not holds(database, customer_id, "priority_support", grace_until)


def test_recovery_during_grace_restores_access(database: Database, settings: Settings) -> None:
    customer_id = make_customer(database)
    set_subscription(database, customer_id, "past_due", T0)
    sync(database, settings, customer_id, T0 + timedelta(hours=1))
    set_subscription(database, customer_id, "active", T0 + timedelta(days=2))
    result = sync(database, settings, customer_id, T0 + timedelta(days=2, hours=1))
    assert {c["action"] for c in result["changes"]} == {"entitlement.restored"}
    assert {(r.status, r.grace_until) for r in rows(database, customer_id).values()} == {
        ("active", None)
    }


@pytest.mark.parametrize("status", ["canceled", "unpaid", "paused"])
def test_ended_subscription_revokes_paid_features(
    database: Database, settings: Settings, status: str
) -> None:
    customer_id = make_customer(database)
    set_subscription(database, customer_id, "active", T0)
    sync(database, settings, customer_id, T0 + timedelta(minutes=1))
    set_subscription(database, customer_id, status, T0 + timedelta(days=3))
    sync(database, settings, customer_id, T0 + timedelta(days=3, minutes=1))
    after = rows(database, customer_id)
    assert (after["priority_support"].status, after["priority_support"].reason) == (
        "revoked",
        status,
    )
    assert after["priority_support"].revoked_at == T0 + timedelta(days=3, minutes=1)
    assert after["api_calls"].limit_value == 1000  # dropped to the free plan


def test_full_refund_of_current_invoice_revokes_access(
    database: Database, settings: Settings
) -> None:
    customer_id = make_customer(database)
    sid = set_subscription(database, customer_id, "active", T0)
    payment_id = pay_invoice(database, customer_id, sid)
    sync(database, settings, customer_id, T0 + timedelta(minutes=1))
    with database.transaction() as s:
        s.get(Payment, payment_id).amount_refunded = 2000  # type: ignore[union-attr]
    sync(database, settings, customer_id, T0 + timedelta(minutes=2))
    assert rows(database, customer_id)["priority_support"].status == "active"  # partial refund
    with database.transaction() as s:
        s.get(Payment, payment_id).amount_refunded = 4900  # type: ignore[union-attr]
    sync(database, settings, customer_id, T0 + timedelta(minutes=3))
    after = rows(database, customer_id)["priority_support"]
    assert (after.status, after.reason) == ("revoked", "refunded")


def test_lost_dispute_revokes_access(database: Database, settings: Settings) -> None:
    customer_id = make_customer(database)
    sid = set_subscription(database, customer_id, "active", T0)
    payment_id = pay_invoice(database, customer_id, sid)
    with database.transaction() as s:
        s.add(
            Dispute(
                stripe_dispute_id=f"dp_{customer_id}",
                payment_id=payment_id,
                amount=4900,
                currency="usd",
                status="needs_response",
            )
        )
    sync(database, settings, customer_id, T0 + timedelta(minutes=1))
    assert rows(database, customer_id)["priority_support"].status == "active"
    with database.transaction() as s:
        dispute = s.scalars(select(Dispute).where(Dispute.payment_id == payment_id)).one()
        dispute.status = "lost"
    sync(database, settings, customer_id, T0 + timedelta(minutes=2))
    after = rows(database, customer_id)["priority_support"]
    assert (after.status, after.reason) == ("revoked", "dispute_lost")


def test_regrant_after_revoke_reuses_the_same_row(database: Database, settings: Settings) -> None:
    customer_id = make_customer(database)
    set_subscription(database, customer_id, "active", T0)
    sync(database, settings, customer_id, T0 + timedelta(minutes=1))
    first_id = rows(database, customer_id)["priority_support"].id
    set_subscription(database, customer_id, "canceled", T0 + timedelta(days=1))
    sync(database, settings, customer_id, T0 + timedelta(days=1, minutes=1))
    set_subscription(database, customer_id, "active", T0 + timedelta(days=2))
    sync(database, settings, customer_id, T0 + timedelta(days=2, minutes=1))
    again = rows(database, customer_id)["priority_support"]
    assert (again.id, again.status, again.revoked_at) == (first_id, "active", None)
    with database.transaction() as s:
        per_feature = s.execute(
            select(Entitlement.feature, func.count())
            .where(Entitlement.customer_id == customer_id)
            .group_by(Entitlement.feature)
        ).all()
    assert per_feature and all(count == 1 for _, count in per_feature)


def test_missing_customer_id_dead_letters_the_task(database: Database, settings: Settings) -> None:
    with database.transaction() as s:
        task_id = submit(s, "provisioning.sync", {})
    assert task_id is not None
    runner = TaskRunner(database, settings, "test-worker", {}, {"provisioning": handle})
    task = runner.claim(task_id)
    assert task is not None
    assert runner.run(task).status == TaskStatus.DEAD
