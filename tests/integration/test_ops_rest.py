"""The /ops REST mirror of the console: tasks, inbox replay, customers, analytics CSV."""

from __future__ import annotations

from datetime import date

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import create_app
from core.settings import Settings
from db.models import AuditEntry, MetricSnapshot, StripeEvent, Task, TaskStatus
from db.session import Database
from orchestrator.access.roles import OPERATOR
from orchestrator.outbox import submit
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.operators import make_operator
from tests.support.refunds import seed_paid_customer


@pytest.fixture
def client(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> TestClient:
    app: FastAPI = create_app(Runtime(settings, database, redis_client, transport, {}))
    token = make_operator(database, "ole", OPERATOR)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def dead_tasks(database: Database, count: int) -> list[int]:
    ids = []
    with database.transaction() as s:
        for n in range(count):
            task_id = submit(s, "notification.send", {"n": n})
            assert task_id is not None
            ids.append(task_id)
        s.execute(update(Task).where(Task.id.in_(ids)).values(status=TaskStatus.DEAD, attempts=8))
    return ids


def test_dead_tasks_are_retried_or_discarded_with_a_reason(
    client: TestClient, database: Database
) -> None:
    retry_id, discard_id = dead_tasks(database, 2)
    summary = client.get("/ops/tasks/summary").json()
    assert summary["counts"]["notification"]["dead"] == 2
    assert client.post(f"/ops/tasks/{retry_id}/retry", json={"reason": " "}).status_code == 422
    retried = client.post(f"/ops/tasks/{retry_id}/retry", json={"reason": "smtp back"})
    assert retried.json()["status"] == "pending" and retried.json()["attempts"] == 0
    discarded = client.post(f"/ops/tasks/{discard_id}/discard", json={"reason": "obsolete"})
    assert discarded.json()["status"] == "discarded"
    again = client.post(f"/ops/tasks/{discard_id}/retry", json={"reason": "oops"})
    assert again.status_code == 409
    dead = client.get("/ops/tasks", params={"status": "dead"}).json()
    assert dead == []
    with database.transaction() as s:
        audit = s.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)).all()
    assert ("ole", "task.retry", "smtp back") in audit
    assert ("ole", "task.discard", "obsolete") in audit


def test_inbox_event_is_found_and_replayed_under_a_new_key(
    client: TestClient, database: Database
) -> None:
    with database.transaction() as s:
        s.add(StripeEvent(id="evt_1", type="invoice.paid", created=1, payload='{"id": "evt_1"}'))
        submit(s, "stripe.event", {"event_id": "evt_1"}, dedupe_key="stripe-event:evt_1")
    assert [e["id"] for e in client.get("/ops/inbox", params={"q": "invoice."}).json()] == ["evt_1"]
    assert client.get("/ops/inbox", params={"q": "customer."}).json() == []
    first = client.post("/ops/inbox/evt_1/replay", json={"reason": "handler fixed"})
    second = client.post("/ops/inbox/evt_1/replay", json={})
    assert first.status_code == second.status_code == 202
    shown = client.get("/ops/inbox/evt_1").json()
    assert shown["payload"] == {"id": "evt_1"}
    assert [t["dedupe_key"] for t in shown["tasks"]] == [
        "stripe-event:evt_1",
        "stripe-event:evt_1:replay:1",
        "stripe-event:evt_1:replay:2",
    ]
    assert client.post("/ops/inbox/evt_nope/replay", json={}).status_code == 404


def test_customers_are_found_by_email_stripe_id_or_id(
    client: TestClient, database: Database
) -> None:
    paid = seed_paid_customer(database, suffix="42")
    for query in ("C42@EXAMPLE", "cus_test_42", str(paid.customer_id)):
        found = client.get("/ops/customers", params={"q": query}).json()
        assert [c["id"] for c in found] == [paid.customer_id], query
    shown = client.get(f"/ops/customers/{paid.customer_id}").json()
    assert [p["stripe_charge_id"] for p in shown["payments"]] == ["ch_test_42"]
    assert client.get("/ops/customers/999").status_code == 404


def test_analytics_range_as_json_and_csv(client: TestClient, database: Database) -> None:
    with database.transaction() as s:
        for day, mrr in ((date(2026, 3, 1), 1_000), (date(2026, 3, 2), 1_500)):
            s.add(MetricSnapshot(day=day, currency="usd", plan="*", metrics={"mrr": mrr}))
    rows = client.get("/ops/analytics", params={"start": "2026-03-02", "end": "2026-03-31"}).json()
    assert [(r["day"], r["mrr"]) for r in rows] == [("2026-03-02", 1_500)]
    csv = client.get("/ops/analytics.csv", params={"start": "2026-03-01", "end": "2026-03-02"})
    lines = csv.text.splitlines()
    assert lines[0].startswith("day,currency,plan,mrr,arr")
    assert lines[1].startswith("2026-03-01,usd,*,1000,") and len(lines) == 3
    backwards = client.get("/ops/analytics", params={"start": "2026-03-02", "end": "2026-03-01"})
    assert backwards.status_code == 422
