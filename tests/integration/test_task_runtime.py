"""The task runtime over real Redis and a real database: claim, run, retry, dead-letter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import noop
from core.clock import frozen, utcnow
from core.settings import Settings
from db.models import Task, TaskStatus
from db.session import Database
from orchestrator.lease import LeaseKeeper
from orchestrator.outbox import submit
from orchestrator.relay import relay_all, relay_once
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from orchestrator.worker import Worker
from tests.support.waiting import wait_until


def queue(session: Session, kind: str, payload: dict[str, Any], **options: Any) -> int:
    task_id = submit(session, kind, payload, **options)
    assert task_id is not None
    return task_id


def statuses(database: Database) -> dict[int, str]:
    with database.transaction() as s:
        return {t.id: t.status for t in s.scalars(select(Task))}


@pytest.fixture
def worker(
    settings: Settings, database: Database, redis_client, transport: StreamTransport
) -> Iterator[Worker]:
    runtime = Runtime(settings, database, redis_client, transport, {})
    w = Worker(runtime, ["noop"], concurrency=2, handlers={"noop": noop.handle})
    w.start()
    yield w
    w.stop()
    w.join(5)


def test_submitted_task_runs_once_and_is_done(database: Database, worker: Worker) -> None:
    with database.transaction() as s:
        task_id = queue(s, "noop", {"echo": "hi"})
    wait_until(lambda: statuses(database)[task_id] == TaskStatus.DONE)
    with database.transaction() as s:
        task = s.get(Task, task_id)
        assert task is not None and task.result == {"echo": "hi"} and task.attempts == 1


def test_dedupe_key_makes_second_submit_a_no_op(database: Database, transport) -> None:
    with database.transaction() as s:
        first = submit(s, "noop", {}, dedupe_key="job:daily:2026-11-20")
        second = submit(s, "noop", {}, dedupe_key="job:daily:2026-11-20")
    assert first is not None and second is None
    assert len(statuses(database)) == 1


def test_failing_task_retries_with_backoff_then_succeeds(
    database: Database, worker: Worker
) -> None:
    with database.transaction() as s:
        task_id = queue(s, "noop", {"fail_times": 2})
    wait_until(lambda: statuses(database)[task_id] == TaskStatus.DONE)
    with database.transaction() as s:
        task = s.get(Task, task_id)
        assert task is not None and task.attempts == 3


def test_task_failing_every_attempt_is_dead_lettered(database: Database, worker: Worker) -> None:
    with database.transaction() as s:
        task_id = queue(s, "noop", {"fail_times": 99}, max_attempts=3)
    wait_until(lambda: statuses(database)[task_id] == TaskStatus.DEAD)
    with database.transaction() as s:
        task = s.get(Task, task_id)
        assert task is not None and task.attempts == 3
        assert "scripted failure on attempt 3" in (task.last_error or "")


def test_rolled_back_submit_publishes_nothing(
    database: Database, transport: StreamTransport
) -> None:
    with pytest.raises(RuntimeError), database.transaction() as s:
        submit(s, "noop", {})
        raise RuntimeError("caller failed")
    assert statuses(database) == {}
    assert transport.redis.xlen(transport.stream("noop")) == 0


def test_tasks_survive_a_redis_flush(
    database: Database, settings: Settings, redis_client, transport: StreamTransport
) -> None:
    with database.transaction() as s:
        ids = [queue(s, "noop", {"n": i}) for i in range(20)]
    redis_client.flushdb()
    runtime = Runtime(settings, database, redis_client, transport, {})
    w = Worker(runtime, ["noop"], concurrency=2, relay=True, handlers={"noop": noop.handle})
    w.start()
    try:
        wait_until(lambda: all(statuses(database)[i] == TaskStatus.DONE for i in ids))
    finally:
        w.stop()
        w.join(5)
    assert relay_all(database, transport, settings) == 0


def test_lease_keeper_extends_a_running_task_and_only_its_owners(
    database: Database, transport
) -> None:
    with database.transaction() as s:
        mine = queue(s, "noop", {})
        theirs = queue(s, "noop", {})
        soon = utcnow() + timedelta(seconds=1)
        for task_id, owner in ((mine, "me"), (theirs, "them")):
            task = s.get(Task, task_id)
            assert task is not None
            task.status, task.lease_owner, task.lease_until = TaskStatus.RUNNING, owner, soon
    keeper = LeaseKeeper(database, lease_seconds=60)
    with keeper.track(mine, "me"), keeper.track(theirs, "not-them"):
        assert keeper.renew_once() == 1
    assert keeper.renew_once() == 0
    with database.transaction() as s:
        renewed, untouched = s.get_one(Task, mine), s.get_one(Task, theirs)
        assert renewed.lease_until and renewed.lease_until > utcnow() + timedelta(seconds=50)
        assert untouched.lease_until and untouched.lease_until <= soon


def test_relay_leaves_stale_tasks_alone_while_their_stream_has_a_backlog(
    database: Database, settings: Settings, transport: StreamTransport
) -> None:
    with database.transaction() as s:
        ids = [queue(s, "noop", {"n": i}) for i in range(3)]
    later = utcnow() + timedelta(seconds=settings.relay_republish_after_seconds + 1)
    assert transport.backlog(["noop"]) == {"noop": 3}
    with frozen(later):
        assert relay_once(database, transport, settings) == 0  # still queued: not sent twice
    transport.read(["noop"], "reader", count=10, block_ms=100)
    assert transport.backlog(["noop"]) == {"noop": 0}
    with frozen(later):
        assert relay_once(database, transport, settings) == len(ids)  # delivered, never done
