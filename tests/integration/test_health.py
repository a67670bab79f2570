"""Liveness, readiness and the Prometheus page, against the real database and Redis."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from fastapi.testclient import TestClient

from api.app import create_app
from core.clock import frozen, utcnow
from core.settings import Settings
from db.models import Task, TaskStatus
from db.session import Database
from orchestrator.outbox import submit
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.processes import free_port
from tests.support.stripe_events import event, fixture, signed

SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r'(?:\{(?P<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)\})?'
    r" (?P<value>-?[0-9.eE+-]+|NaN|[+-]Inf)$"
)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
Metrics = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_exposition(text: str) -> Metrics:
    """Samples of a Prometheus text page; fails on any line outside the format."""
    assert text.endswith("\n")
    typed: set[str] = set()
    samples: Metrics = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in {"counter", "gauge", "histogram", "summary", "untyped"}, line
            typed.add(name)
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        assert match["name"] in typed, f"sample before its TYPE: {line!r}"
        labels = frozenset(LABEL.findall(match["labels"] or ""))
        samples[(match["name"], labels)] = float(match["value"])
    return samples


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics[(name, frozenset(labels.items()))]


@pytest.fixture
def runtime(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> Runtime:
    return Runtime(settings, database, redis_client, transport, {})


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def test_healthz_answers_while_the_process_lives(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_ok_when_database_and_redis_answer(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_naming_redis_when_redis_is_unreachable(
    settings: Settings, database: Database
) -> None:
    unreachable = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=2)
    runtime = Runtime(settings, database, unreachable, StreamTransport(unreachable), {})

    with TestClient(create_app(runtime)) as client:
        response = client.get("/readyz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["redis"].startswith("error")


def test_metrics_page_parses_and_counts_tasks_queues_and_webhooks(
    client: TestClient, database: Database, transport: StreamTransport, redis_client: redis.Redis
) -> None:
    submitted_at = utcnow()
    transport.ensure_group("billing")
    with frozen(submitted_at), database.transaction() as session:
        ids = [submit(session, "stripe.event", {"event_id": f"evt_{n}"}) for n in range(3)]
        submit(session, "notification.send", {"key": "welcome"})
    with database.transaction() as session:
        task = session.get(Task, ids[0])
        assert task is not None
        task.status = TaskStatus.DEAD
    transport.read(["billing"], "metrics-test", count=1, block_ms=10)
    body, signature = signed(event("customer.created", fixture("customer")), "whsec_test_primary")
    client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": signature})
    client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": signature})
    client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": "t=1,v1=00"})

    with frozen(submitted_at + timedelta(seconds=90)):
        response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    metrics = parse_exposition(response.text)
    # Three submitted here, one from the webhook; one of the three marked dead.
    assert sample(metrics, "moneta_tasks", agent="billing", status="pending") == 3
    assert sample(metrics, "moneta_tasks", agent="billing", status="dead") == 1
    assert sample(metrics, "moneta_tasks", agent="notification", status="pending") == 1
    assert sample(metrics, "moneta_tasks", agent="analytics", status="done") == 0
    assert sample(metrics, "moneta_oldest_pending_task_age_seconds") == pytest.approx(90, abs=1)
    assert sample(metrics, "moneta_redis_up") == 1
    assert sample(metrics, "moneta_queue_unacked", agent="billing") == 1
    if int(redis_client.info()["redis_version"].split(".")[0]) >= 7:  # no group lag before 7
        assert sample(metrics, "moneta_queue_lag", agent="billing") == 3
    assert sample(metrics, "moneta_webhooks_received_total") == 2
    assert sample(metrics, "moneta_webhooks_duplicate_total") == 1
    assert sample(metrics, "moneta_webhooks_rejected_total", reason="bad_signature") == 1
