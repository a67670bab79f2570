"""Daily snapshots and business events over a real database, through the task runtime and CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from agents.analytics.daily import aggregate_day, backfill
from agents.analytics.graph import handle
from core.settings import Settings, reset_settings
from db.models import (
    AnalyticsEvent,
    Customer,
    Invoice,
    MetricSnapshot,
    Payment,
    Refund,
    Subscription,
    SubscriptionVersion,
    TaskStatus,
)
from db.session import Database
from orchestrator.commands.analytics import app as analytics_cli
from orchestrator.outbox import submit
from orchestrator.runtime import TaskRunner

DAY = date(2026, 11, 20)
MIDNIGHT = datetime(2026, 11, 20, tzinfo=UTC)


def at(days: float = 0, hours: float = 0) -> datetime:
    return MIDNIGHT + timedelta(days=days, hours=hours)


def run_task(database: Database, settings: Settings, kind: str, payload: dict[str, Any]) -> Any:
    with database.transaction() as s:
        task_id = submit(s, kind, payload)
    assert task_id is not None
    runner = TaskRunner(database, settings, "test-worker", {}, {"analytics": handle})
    task = runner.claim(task_id)
    assert task is not None
    outcome = runner.run(task)
    return outcome


def version(
    sid: str, customer_id: int, when: datetime, status: str, **kw: Any
) -> SubscriptionVersion:
    values = {"plan": "pro", "unit_amount": 5000, "currency": "usd"} | kw
    return SubscriptionVersion(
        stripe_subscription_id=sid,
        customer_id=customer_id,
        valid_from=when,
        status=status,
        **values,
    )


def paid(customer_id: int, sid: str, amount: int, status: str, when: datetime) -> Payment:
    return Payment(
        stripe_charge_id=f"ch_{sid}_{status}",
        customer_id=customer_id,
        stripe_invoice_id=f"in_{sid}",
        amount=amount,
        currency="usd",
        status=status,
        paid_at=when if status == "succeeded" else None,
        created_at=when,
    )


def attempt(kind: str, customer_id: int, sid: str, amount: int, when: datetime) -> AnalyticsEvent:
    return AnalyticsEvent(
        dedupe_key=f"{kind}:{sid}:{when.isoformat()}",
        type=kind,
        customer_id=customer_id,
        occurred_at=when,
        amount=amount,
        currency="usd",
        data={"stripe_invoice_id": f"in_{sid}", "stripe_subscription_id": sid},
    )


@pytest.fixture
def history(database: Database) -> Iterator[None]:
    """Five subscriptions around DAY, with payments and a refund on DAY (hand-computed below)."""
    with database.transaction() as s:
        customers = [Customer(stripe_customer_id=f"cus_{i}", email=f"c{i}@x.io") for i in range(5)]
        s.add_all(customers)
        s.flush()
        c = [x.id for x in customers]
        plans = {"sub_a": "pro", "sub_b": "starter", "sub_c": "pro", "sub_d": "starter"}
        for i, (sid, plan) in enumerate(plans.items()):
            s.add(
                Subscription(
                    stripe_subscription_id=sid, customer_id=c[i], status="active", plan=plan
                )
            )
            s.add(
                Invoice(
                    stripe_invoice_id=f"in_{sid}",
                    customer_id=c[i],
                    stripe_subscription_id=sid,
                    status="paid",
                    currency="usd",
                )
            )
        s.add_all(
            [
                version("sub_a", c[0], at(-5), "active", unit_amount=120_000, interval="year"),
                version("sub_a", c[0], at(1, 3), "canceled", unit_amount=120_000, interval="year"),
                version("sub_b", c[1], at(-3), "active", plan="starter", unit_amount=2000),
                version("sub_b", c[1], at(0, 10), "canceled", plan="starter", unit_amount=2000),
                version("sub_c", c[2], at(0, 8), "trialing", discount_percent_off="20"),
                version("sub_d", c[3], at(0, 9), "active", plan="starter", unit_amount=2000),
                version("sub_e", c[4], at(-30), "active"),
                version("sub_e", c[4], at(-20), "canceled"),
            ]
        )
        s.add(paid(c[3], "sub_d", 2000, "succeeded", at(0, 9)))
        # Attempts as billing records them: sub_a fails today; sub_d failed yesterday and is
        # recovered today.
        s.add(attempt("payment_failed", c[0], "sub_a", 5000, at(0, 11)))
        s.add(attempt("payment_failed", c[3], "sub_d", 2000, at(-1, 20)))
        s.add(attempt("payment_succeeded", c[3], "sub_d", 2000, at(0, 9)))
        s.add(paid(c[0], "sub_a", 7000, "succeeded", at(-1, 11)))  # the day before
        s.flush()
        charge = s.scalars(select(Payment).where(Payment.stripe_charge_id == "ch_sub_d_succeeded"))
        s.add(
            Refund(
                stripe_refund_id="re_1",
                payment_id=charge.one().id,
                amount=500,
                currency="usd",
                status="succeeded",
                refunded_at=at(0, 12),
            )
        )
    yield


def snapshot(database: Database, day: date, plan: str = "*") -> MetricSnapshot:
    with database.transaction() as s:
        return s.scalars(
            select(MetricSnapshot).where(
                MetricSnapshot.day == day,
                MetricSnapshot.currency == "usd",
                MetricSnapshot.plan == plan,
            )
        ).one()


def test_daily_task_writes_the_days_snapshot_per_plan_and_total(
    database: Database, settings: Settings, history: None
) -> None:
    outcome = run_task(database, settings, "analytics.daily", {"day": DAY.isoformat()})
    assert outcome.status == TaskStatus.DONE, outcome.error
    total = snapshot(database, DAY).metrics
    assert total == {
        "mrr": 12_000,  # sub_a 120000/12 + sub_d 2000; trial excluded; sub_b canceled
        "arr": 144_000,
        "active_subscriptions": 2,
        "active_customers": 2,
        "new_subscriptions": 2,  # sub_c (trial) and sub_d
        "churned_subscriptions": 1,  # sub_b
        "logo_churn_rate": "0.500000",  # 1 of 2 paying customers at 00:00
        "revenue_churn_rate": "0.166667",  # 2000 of 12000
        "arpu": 6000,
        "gross_revenue": 2000,
        "refunds": 500,
        "net_revenue": 1500,
        "failed_payments": 1,  # sub_a today; sub_d's failure was yesterday
        "failed_payment_amount": 5000,
        "recovered_payments": 1,  # sub_d paid today after yesterday's failure
        "recovered_payment_amount": 2000,
        "mrr_start": 12_000,  # sub_a 10000 + sub_b 2000 at 00:00
        "mrr_new": 2000,  # sub_d's customer never paid before
        "mrr_expansion": 0,
        "mrr_contraction": 0,
        "mrr_churn": 2000,  # sub_b
        "mrr_reactivation": 0,
        "mrr_net": 0,  # 12000 = 12000 + 2000 - 2000
        "trials_ended": 0,  # sub_c is still trialing
        "trials_converted": 0,
    }
    assert snapshot(database, DAY, "pro").metrics["mrr"] == 10_000
    starter = snapshot(database, DAY, "starter").metrics
    assert (starter["mrr"], starter["churned_subscriptions"], starter["net_revenue"]) == (
        2000,
        1,
        1500,
    )


def test_rerunning_a_day_rewrites_that_day_only(
    database: Database, settings: Settings, history: None
) -> None:
    with database.transaction() as s:
        aggregate_day(s, DAY - timedelta(days=1))
        aggregate_day(s, DAY)
    before = snapshot(database, DAY - timedelta(days=1))
    with database.transaction() as s:
        s.add(paid(1, "sub_late", 900, "succeeded", at(0, 20)))
    with database.transaction() as s:
        aggregate_day(s, DAY)
    assert snapshot(database, DAY).metrics["gross_revenue"] == 2900
    untouched = snapshot(database, DAY - timedelta(days=1))
    assert (untouched.id, untouched.computed_at, untouched.metrics) == (
        before.id,
        before.computed_at,
        before.metrics,
    )
    assert untouched.metrics["gross_revenue"] == 7000
    with database.transaction() as s:
        per_day = s.scalar(
            select(func.count()).select_from(MetricSnapshot).where(MetricSnapshot.day == DAY)
        )
    assert per_day == 3  # *, pro, starter: no duplicates after the re-run


def test_backfill_rebuilds_every_day_of_the_range(database: Database, history: None) -> None:
    seen: list[date] = []
    days = backfill(database, DAY - timedelta(days=2), DAY + timedelta(days=1), seen.append)
    assert days == 4 and seen == [DAY + timedelta(days=n) for n in (-2, -1, 0, 1)]
    assert snapshot(database, DAY - timedelta(days=2)).metrics["mrr"] == 12_000  # sub_a + sub_b
    next_day = snapshot(database, DAY + timedelta(days=1)).metrics
    assert (next_day["mrr"], next_day["churned_subscriptions"]) == (2000, 1)  # sub_a ended


def test_backfill_refuses_a_reversed_range(database: Database) -> None:
    with pytest.raises(ValueError, match="before it starts"):
        backfill(database, DAY, DAY - timedelta(days=1))


def test_recording_the_same_event_twice_stores_it_once(
    database: Database, settings: Settings
) -> None:
    payload = {
        "dedupe_key": "invoice.paid:in_123",
        "type": "invoice.paid",
        "customer_id": None,
        "occurred_at": "2026-11-20T09:00:00+00:00",
        "amount": 4900,
        "currency": "USD",
        "data": {"plan": "pro"},
    }
    first = run_task(database, settings, "analytics.record", payload)
    second = run_task(database, settings, "analytics.record", payload)
    assert first.status == second.status == TaskStatus.DONE
    with database.transaction() as s:
        events = list(s.scalars(select(AnalyticsEvent)))
    assert len(events) == 1
    assert (events[0].amount, events[0].currency, events[0].data) == (4900, "usd", {"plan": "pro"})
    assert events[0].occurred_at == at(0, 9)


def test_malformed_event_is_dead_lettered(database: Database, settings: Settings) -> None:
    outcome = run_task(
        database, settings, "analytics.record", {"dedupe_key": "k", "type": "t", "occurred_at": "x"}
    )
    assert outcome.status == TaskStatus.DEAD and "occurred_at" in (outcome.error or "")


@pytest.fixture
def cli_env(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("MONETA_DATABASE_URL", database_url)
    monkeypatch.setenv("MONETA_DATA_DIR", str(tmp_path / "cli"))
    reset_settings()
    yield CliRunner()
    reset_settings()


def test_cli_daily_computes_a_missing_day_and_prints_money(
    cli_env: CliRunner, database: Database, history: None
) -> None:
    result = cli_env.invoke(analytics_cli, ["daily", "--date", DAY.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    totals = {(s["currency"], s["plan"]): s["metrics"] for s in report["snapshots"]}
    assert totals[("usd", "*")]["mrr"] == 12_000
    table = cli_env.invoke(analytics_cli, ["daily", "--date", DAY.isoformat()])
    assert table.exit_code == 0, table.output
    assert "USD 120.00" in table.output and "STARTER" in table.output


def test_cli_backfill_reports_days_and_refuses_bad_dates(
    cli_env: CliRunner, database: Database, history: None
) -> None:
    ok = cli_env.invoke(analytics_cli, ["backfill", "--from", "2026-11-18", "--to", "2026-11-20"])
    assert ok.exit_code == 0, ok.output
    assert "rebuilt 3 day(s)" in ok.output
    bad = cli_env.invoke(analytics_cli, ["backfill", "--from", "2026-13-01", "--to", "2026-11-20"])
    assert bad.exit_code == 1 and "--from must be a date" in bad.output
    reversed_range = cli_env.invoke(
        analytics_cli, ["backfill", "--from", "2026-11-20", "--to", "2026-11-18"]
    )
    assert reversed_range.exit_code == 1 and "is before" in reversed_range.output
