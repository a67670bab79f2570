"""Scheduled jobs submit one task per scheduled slot, however many schedulers fire it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import select

from core.clock import frozen
from core.settings import Settings
from db.models import Task
from db.session import Database
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from scheduler.executor import add_slotted_job
from scheduler.jobs import SCHEDULED_TASKS, ScheduledTask, submit_for_slot
from scheduler.service import new_scheduler, schedule_task

SLOT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def scheduled(name: str) -> ScheduledTask:
    return next(task for task in SCHEDULED_TASKS if task.name == name)


def all_tasks(database: Database) -> list[Task]:
    with database.transaction() as session:
        return list(session.scalars(select(Task).order_by(Task.id)))


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_daily_aggregation_is_keyed_by_its_slot_not_by_when_it_ran(
    database: Database, transport: StreamTransport
) -> None:
    with frozen(SLOT + timedelta(minutes=7, seconds=3)):  # the run started late
        submit_for_slot(database, scheduled("daily_aggregation"), SLOT, max_attempts=8)

    [task] = all_tasks(database)
    assert task.dedupe_key == "job:daily_aggregation:2026-11-20T02:00:00+00:00"
    assert (task.kind, task.payload) == ("analytics.daily", {"day": "2026-11-19"})


def test_second_submission_of_the_same_slot_creates_no_task(
    database: Database, transport: StreamTransport
) -> None:
    expiry = scheduled("approval_expiry")
    slot = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)

    first = submit_for_slot(database, expiry, slot, max_attempts=8)
    again = submit_for_slot(database, expiry, slot, max_attempts=8)
    next_slot = submit_for_slot(database, expiry, slot + timedelta(minutes=15), max_attempts=8)

    assert first is not None and again is None and next_slot is not None
    assert [t.payload for t in all_tasks(database)] == [{}, {}]


def test_reconciliation_looks_back_two_days_from_its_slot(
    database: Database, transport: StreamTransport
) -> None:
    submit_for_slot(database, scheduled("stripe_reconciliation"), SLOT, max_attempts=8)

    [task] = all_tasks(database)
    assert task.kind == "stripe.reconcile"
    assert task.payload == {"since": int((SLOT - timedelta(days=2)).timestamp())}


def test_schedules_fire_at_their_utc_slots() -> None:
    after = datetime(2026, 11, 20, 5, 7, tzinfo=UTC)

    def next_fire(name: str) -> datetime:
        fire: datetime = scheduled(name).trigger.get_next_fire_time(None, after)
        return fire

    assert next_fire("daily_aggregation") == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    assert next_fire("approval_expiry") == datetime(2026, 11, 20, 5, 15, tzinfo=UTC)
    assert next_fire("stripe_reconciliation") == datetime(2026, 11, 21, 3, 30, tzinfo=UTC)


def test_job_is_handed_its_scheduled_fire_time() -> None:
    scheduled_for = datetime.now(UTC) - timedelta(seconds=5)
    received: list[datetime] = []
    done = threading.Event()

    def job(*, fire_time: datetime) -> None:
        received.append(fire_time)
        done.set()

    scheduler = new_scheduler()
    add_slotted_job(scheduler, job, DateTrigger(scheduled_for), kwargs={}, misfire_grace_time=60)
    scheduler.start()
    try:
        assert done.wait(20)
        wait_until(lambda: scheduler.get_jobs() == [])  # a one-off job is removed once run
    finally:
        scheduler.shutdown(wait=True)

    assert received == [scheduled_for]


def test_two_schedulers_firing_the_same_slots_create_one_task_per_slot(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> None:
    runtime = Runtime(settings, database, redis_client, transport, {})
    every_second = ScheduledTask(
        name="tick",
        kind="noop",
        trigger=CronTrigger(second="*", timezone=UTC),
        payload=lambda fire_time: {"slot": fire_time.isoformat()},
        misfire_grace_seconds=5,
    )
    runs: list[tuple[int, datetime]] = []
    errors: list[Any] = []
    schedulers = [new_scheduler(), new_scheduler()]

    for index, scheduler in enumerate(schedulers):

        def record(event: JobExecutionEvent, index: int = index) -> None:
            if event.exception is not None:
                errors.append(event.exception)
            runs.append((index, event.scheduled_run_time))

        scheduler.add_listener(record, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        schedule_task(scheduler, runtime, every_second)
    for scheduler in schedulers:
        scheduler.start()
    try:
        # Until both schedulers have run at least two of the same slots.
        wait_until(
            lambda: len({s for i, s in runs if i == 0} & {s for i, s in runs if i == 1}) >= 2
        )
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)

    assert errors == []
    slots = {slot for _, slot in runs}
    tasks = all_tasks(database)
    assert sorted(t.dedupe_key or "" for t in tasks) == sorted(
        f"job:tick:{slot.isoformat()}" for slot in slots
    )
    assert len(runs) > len(tasks)  # some slots were fired twice, yet each has one task
