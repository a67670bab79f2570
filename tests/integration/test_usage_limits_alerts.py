"""Limits per metric and period, and alerts at 80/90/100% that fire once per period."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from agents.metering.ingest import record_usage
from agents.metering.limits import check
from agents.metering.meters import load_meters
from agents.provisioning.plans import load_catalog
from core.clock import frozen
from core.settings import Settings
from db.models import AuditEntry, Entitlement, Task, UsageAlert
from db.session import Database
from tests.support.metering import (
    AppFactory,
    grant_limit,
    make_api_key,
    make_customer,
    run_metering_task,
)

MARCH = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
APRIL = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
METERS = load_meters()
PLANS = load_catalog()


def use(database: Database, customer_id: int, metric: str, quantity: int, key: str) -> None:
    with database.transaction() as s:
        result = record_usage(
            s,
            METERS,
            [
                {
                    "customer": str(customer_id),
                    "metric": metric,
                    "quantity": quantity,
                    "idempotency_key": key,
                }
            ],
            caller_customer_id=None,
        )
    assert result.count("accepted") == 1


def test_check_answers_with_the_limit_that_applies(database: Database) -> None:
    granted = make_customer(database)
    grant_limit(database, granted, "ai_tokens", 1000, plan="starter")
    free = make_customer(database)
    revoked = make_customer(database)
    grant_limit(database, revoked, "ai_tokens", 1000)
    with database.transaction() as s:
        row = s.scalars(select(Entitlement).where(Entitlement.customer_id == revoked)).one()
        row.status = "revoked"
    with frozen(MARCH):
        use(database, granted, "ai_tokens", 900, "t1")
        with database.transaction() as s:
            fits = check(
                s, METERS, PLANS, customer_id=granted, metric="ai_tokens", quantity=Decimal(100)
            )
            over = check(
                s, METERS, PLANS, customer_id=granted, metric="ai_tokens", quantity=Decimal(101)
            )
            by_free_plan = check(s, METERS, PLANS, customer_id=free, metric="ai_tokens")
            none_left = check(s, METERS, PLANS, customer_id=revoked, metric="ai_tokens")
    assert (fits.allowed, fits.remaining, fits.percent_used) == (True, 100, Decimal("90.00"))
    assert (over.allowed, over.limit.value, over.limit.plan, over.limit.source) == (
        False,
        1000,
        "starter",
        "entitlement",
    )
    assert (by_free_plan.allowed, by_free_plan.limit.value, by_free_plan.limit.source) == (
        True,
        PLANS.free.grants["ai_tokens"],
        "free_plan",
    )
    assert (none_left.allowed, none_left.limit.source) == (False, "revoked")


def test_check_over_rest_for_the_keys_own_customer(
    metering_app: AppFactory, database: Database
) -> None:
    customer = make_customer(database)
    grant_limit(database, customer, "exports", 2)
    key = make_api_key(database, customer)
    client = TestClient(metering_app())
    headers = {"X-API-Key": key}
    client.post(
        "/api/v1/usage", json={"metric": "exports", "idempotency_key": "e1"}, headers=headers
    )
    answer = client.get(
        "/api/v1/usage/check", params={"metric": "exports", "quantity": 2}, headers=headers
    )
    assert answer.status_code == 200
    assert answer.json()["allowed"] is False and answer.json()["remaining"] == "1"
    assert answer.json()["limit"]["limit"] == 2
    bad = client.get("/api/v1/usage/check", params={"metric": "nope"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_metric"
    someone_else = str(make_customer(database))
    for named, status in ((someone_else, 403), ("cus_nobody", 404), (str(customer), 200)):
        answer = client.get(
            "/api/v1/usage/check",
            params={"metric": "exports", "customer": named},
            headers=headers,
        )
        assert answer.status_code == status, named


def _alert_tasks(database: Database) -> list[Task]:
    with database.transaction() as s:
        tasks = s.scalars(select(Task).where(Task.kind == "notification.send").order_by(Task.id))
        return [t for t in tasks if t.payload["template"] == "usage_alert"]


def test_alerts_fire_once_per_threshold_and_period(settings: Settings, database: Database) -> None:
    customer = make_customer(database)
    grant_limit(database, customer, "api_calls", 1000)
    with frozen(MARCH):
        use(database, customer, "api_calls", 850, "a")
    first = run_metering_task(database, settings, "usage.evaluate_alerts", {}, MARCH)
    again = run_metering_task(database, settings, "usage.evaluate_alerts", {}, MARCH)
    assert (first or {})["alerts"] == 1 and (again or {})["alerts"] == 0
    with frozen(MARCH):
        use(database, customer, "api_calls", 300, "b")  # 1,150: past 90 and 100 at once
    jumped = run_metering_task(database, settings, "usage.evaluate_alerts", {}, MARCH)
    assert (jumped or {})["alerts"] == 1

    emails = _alert_tasks(database)
    assert [t.payload["context"]["threshold"] for t in emails] == [80, 100]
    assert emails[0].payload["customer_id"] == customer
    assert emails[1].payload["context"]["used"] == "1,150"
    with database.transaction() as s:
        thresholds = s.scalars(select(UsageAlert.threshold).order_by(UsageAlert.threshold)).all()
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "usage.alert")).all()
    assert thresholds == [80, 90, 100]
    assert len(audited) == 2

    with frozen(APRIL):
        use(database, customer, "api_calls", 900, "c")
    next_period = run_metering_task(database, settings, "usage.evaluate_alerts", {}, APRIL)
    assert (next_period or {})["alerts"] == 1
    assert len(_alert_tasks(database)) == 3


def test_unlimited_plans_never_alert(settings: Settings, database: Database) -> None:
    customer = make_customer(database)
    grant_limit(database, customer, "api_calls", None, plan="enterprise")
    with frozen(MARCH):
        use(database, customer, "api_calls", 10**9, "big")
    result = run_metering_task(database, settings, "usage.evaluate_alerts", {}, MARCH)
    assert (result or {})["alerts"] == 0 and _alert_tasks(database) == []
