"""Moneta's durable task path end to end with the no-op agent.

Enqueue: `submit()` one task per transaction from one thread (row in PostgreSQL, XADD after
commit). Drain: ONE `moneta worker --agents noop` process claims, runs and finishes them all;
its rate is taken from the tasks' own `finished_at` stamps, so process start-up is excluded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from sqlalchemy import func, select

from bench.processes import cpu_seconds, start_moneta, stop
from bench.report import BenchFailed, Metric
from bench.target import REDIS_PREFIX, BenchTarget
from db.models import Task, TaskStatus
from db.session import Database
from orchestrator.outbox import submit, use_transport
from orchestrator.transport import StreamTransport


@dataclass(frozen=True)
class QueueLoad:
    tasks: int
    concurrency: int  # worker threads
    timeout: float  # seconds the drain may take before the run fails


FULL = QueueLoad(tasks=5000, concurrency=8, timeout=300)
QUICK = QueueLoad(tasks=300, concurrency=8, timeout=60)


def run(target: BenchTarget, quick: bool) -> list[Metric]:
    load = QUICK if quick else FULL
    database = Database(target.database_url, pool_size=2)
    client = redis.Redis.from_url(target.redis_url)
    try:
        enqueue_seconds = _enqueue(database, StreamTransport(client, REDIS_PREFIX), load.tasks)
        drain_seconds, cpu_per_task = _drain(target, database, load)
    finally:
        client.close()
        database.dispose()
    label = f"{load.tasks:,} no-op tasks"
    return [
        Metric(
            f"enqueued tasks/s ({label}, 1 per transaction)",
            "tasks/s",
            load.tasks / enqueue_seconds,
        ),
        Metric(
            f"worker tasks/s ({label}, 1 process, concurrency {load.concurrency})",
            "tasks/s",
            (load.tasks - 1) / drain_seconds,
        ),
        Metric(f"worker process CPU per task ({label})", "ms", cpu_per_task * 1000),
    ]


def _enqueue(database: Database, transport: StreamTransport, count: int) -> float:
    """Seconds to submit `count` tasks; checks every one is stored and published."""
    use_transport(transport)
    try:
        started = time.perf_counter()
        for index in range(count):
            with database.transaction() as session:
                submit(session, "noop", {"echo": index})
        seconds = time.perf_counter() - started
    finally:
        use_transport(None)
    published = transport.redis.xlen(transport.stream("noop"))
    if published != count:
        raise BenchFailed(f"submitted {count} tasks but {published} reached the stream")
    return seconds


def _drain(target: BenchTarget, database: Database, load: QueueLoad) -> tuple[float, float]:
    """Seconds from the first task done to the last, one worker process doing them all, and
    its CPU seconds per task from the first poll that saw work done (start-up excluded)."""
    args = ["worker", "--agents", "noop", "--concurrency", str(load.concurrency)]
    process = start_moneta(target, args, "worker.log")
    started: tuple[float, int] | None = None  # (CPU seconds, tasks done) once work began
    try:
        deadline = time.monotonic() + load.timeout
        while (done := target.counts().status(TaskStatus.DONE)) < load.tasks:
            if process.poll() is not None:
                raise BenchFailed(f"moneta worker exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise BenchFailed(f"{done} of {load.tasks} tasks done after {load.timeout}s")
            if started is None and done:
                started = (cpu_seconds(process.pid), done)
            time.sleep(0.5)  # sparse polling: the count query competes with the worker
        if started is None:  # all done before the first poll: start-up is included
            started = (0.0, 0)
        cpu_per_task = (cpu_seconds(process.pid) - started[0]) / (load.tasks - started[1])
    finally:
        stop(process)
    with database.transaction() as session:
        first, last = session.execute(
            select(func.min(Task.finished_at), func.max(Task.finished_at))
        ).one()
    if first is None or last is None or last <= first:
        raise BenchFailed(f"tasks have no usable finish times ({first}, {last})")
    return float((last - first).total_seconds()), cpu_per_task
