"""Metering scenes: customers with limits, API keys, the app, metering tasks run in place."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI

from agents.metering.graph import handle
from api.app import create_app
from core.clock import frozen
from core.settings import Settings
from db.models import Customer, Entitlement, Task, TaskStatus
from db.session import Database
from orchestrator.access.api_keys import create_api_key
from orchestrator.outbox import submit
from orchestrator.runtime import TaskRunner
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime


def make_customer(database: Database, *, stripe_id: str | None = None) -> int:
    with database.transaction() as s:
        customer = Customer(
            stripe_customer_id=stripe_id or f"cus_{uuid.uuid4().hex[:14]}",
            email=f"{uuid.uuid4().hex[:8]}@example.com",
            name="Ada",
        )
        s.add(customer)
        s.flush()
        return customer.id


def grant_limit(
    database: Database, customer_id: int, metric: str, limit: int | None, plan: str = "starter"
) -> None:
    """The grant row provisioning would keep for `metric` on `plan`."""
    with database.transaction() as s:
        s.add(Entitlement(customer_id=customer_id, feature=metric, limit_value=limit, plan=plan))


def make_api_key(database: Database, customer_id: int) -> str:
    with database.transaction() as s:
        return create_api_key(s, customer_id, actor="test").secret


AppFactory = Callable[..., FastAPI]


@pytest.fixture
def metering_app(
    settings: Settings, database: Database, redis_client: Any, transport: StreamTransport
) -> Iterator[AppFactory]:
    """Build Moneta apps (optionally with changed settings); their buffered API-call counts
    are written at teardown, so no flusher outlives the test and writes into the next one."""
    apps: list[FastAPI] = []

    def build(**changes: Any) -> FastAPI:
        chosen = settings.model_copy(update=changes) if changes else settings
        app = create_app(Runtime(chosen, database, redis_client, transport, {}))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.state.api_call_recorder.close()


def run_metering_task(
    database: Database,
    settings: Settings,
    kind: str,
    payload: dict[str, Any],
    at: datetime,
    tools: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> dict[str, Any] | None:
    """Submit one metering task at `at` and run it to done in this process; its result."""
    with frozen(at):
        with database.transaction() as s:
            task_id = submit(s, kind, payload, dedupe_key=dedupe_key)
        if task_id is None:
            return None
        return run_task(database, settings, task_id, tools or {})


def run_task(
    database: Database,
    settings: Settings,
    task_id: int,
    tools: dict[str, Any],
    expect: str = TaskStatus.DONE,
) -> dict[str, Any] | None:
    """Claim and run the task now (the clock as set); its outcome must be `expect`."""
    runner = TaskRunner(database, settings, "test-worker", tools, {"metering": handle})
    task = runner.claim(task_id)
    assert task is not None
    outcome = runner.run(task)
    assert outcome.status == expect, outcome.error
    with database.transaction() as s:
        row = s.get(Task, task_id)
        assert row is not None
        return row.result
