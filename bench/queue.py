"""Moneta's durable task path against peer task queues, same Redis, same machine, same run.

Moneta: `submit()` one task per transaction from one thread (row in PostgreSQL, XADD after
commit), then `moneta worker --agents noop` processes drain the filled queue; the drain rate
is taken from the tasks' own `finished_at` stamps, so process start-up is excluded. Peers
(`bench/peers/`) enqueue with their own clients and drain with their own workers, timed from
the first task done to the last. The raw Redis Streams figure is the ceiling: no task store.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import redis
from sqlalchemy import func, select

from bench.peers import measure as peer_measure
from bench.peers import streams
from bench.peers.common import REDIS_URL_ENV
from bench.processes import cpu_seconds, start_moneta, stop
from bench.report import BenchFailed, Metric
from bench.target import REDIS_PREFIX, BenchTarget
from db.models import Task, TaskStatus
from db.session import Database
from orchestrator.outbox import submit, use_transport
from orchestrator.transport import StreamTransport

PEER_REDIS_DB = 13  # the peers' own db index on the same Redis server; flushed per run
FILL_BATCH = 500  # tasks per transaction when refilling the queue for another drain


@dataclass(frozen=True)
class QueueLoad:
    tasks: int
    processes: tuple[int, ...]  # Moneta worker process counts, one drain each
    concurrency: int  # threads per Moneta worker process
    peers: tuple[str, ...]  # keys of `bench.peers.measure.peers`
    timeout: float  # seconds a drain may take before the run fails


ALL_PEERS = ("dramatiq", "celery-prefork", "celery-threads", "rq", "arq")
FULL = QueueLoad(tasks=20_000, processes=(1, 2), concurrency=8, peers=ALL_PEERS, timeout=300)
QUICK = QueueLoad(tasks=2_000, processes=(1, 2), concurrency=8, peers=("dramatiq",), timeout=60)


def run(target: BenchTarget, quick: bool) -> list[Metric]:
    load = QUICK if quick else FULL
    label = f"{load.tasks:,} no-op tasks"
    metrics = _moneta(target, load, label)
    best = max(m.value for m in metrics if m.name.startswith("Moneta end-to-end"))
    peer_url = peer_redis_url(target.redis_url)
    known = peer_measure.peers(peer_url)
    for key in load.peers:
        peer = known[key]
        result = peer_measure.measure(peer, load.tasks, peer_url, target.data_dir, load.timeout)
        metrics += [
            Metric(f"{peer.label}: enqueue ({label})", "tasks/s", result.enqueue_per_second),
            Metric(f"{peer.label}: end-to-end ({label})", "tasks/s", result.drain_per_second),
            Metric(f"Moneta best end-to-end / {key}", "x", best / result.drain_per_second),
        ]
    ceiling = streams.measure(load.tasks, peer_url)
    metrics += [
        Metric(f"raw Redis Streams: batched XADD ({label})", "tasks/s", ceiling.enqueue_per_second),
        Metric(
            f"raw Redis Streams: XREADGROUP + XACK/XDEL, batches of {streams.BATCH} ({label})",
            "tasks/s",
            ceiling.drain_per_second,
        ),
    ]
    return metrics


def peer_redis_url(redis_url: str) -> str:
    """`BENCH_PEER_REDIS_URL` if set, else the bench's Redis server with the peers' own db."""
    if configured := os.environ.get(REDIS_URL_ENV):
        return configured
    kwargs = redis.Redis.from_url(redis_url).connection_pool.connection_kwargs
    return f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/{PEER_REDIS_DB}"


def _moneta(target: BenchTarget, load: QueueLoad, label: str) -> list[Metric]:
    database = Database(target.database_url, pool_size=2)
    client = redis.Redis.from_url(target.redis_url)
    transport = StreamTransport(client, REDIS_PREFIX)
    metrics = []
    try:
        for number, processes in enumerate(load.processes):
            if number == 0:
                seconds = _enqueue(database, transport, load.tasks, per_transaction=1)
                metrics.append(
                    Metric(
                        f"Moneta enqueue ({label}, 1 per transaction, 1 thread)",
                        "tasks/s",
                        load.tasks / seconds,
                    )
                )
            else:
                target.reset()
                _enqueue(database, transport, load.tasks, per_transaction=FILL_BATCH)
            drain_seconds, cpu_per_task = _drain(target, database, load, processes)
            workers = f"{processes} process{'es' if processes > 1 else ''} × {load.concurrency}"
            metrics += [
                Metric(
                    f"Moneta end-to-end ({label}, {workers} threads)",
                    "tasks/s",
                    (load.tasks - 1) / drain_seconds,
                ),
                Metric(f"Moneta worker CPU per task ({workers} threads)", "ms", cpu_per_task * 1e3),
            ]
    finally:
        client.close()
        database.dispose()
    return metrics


def _enqueue(
    database: Database, transport: StreamTransport, count: int, *, per_transaction: int
) -> float:
    """Seconds to submit `count` tasks; checks every one is stored and published."""
    use_transport(transport)
    try:
        started = time.perf_counter()
        for first in range(0, count, per_transaction):
            with database.transaction() as session:
                for index in range(first, min(count, first + per_transaction)):
                    submit(session, "noop", {"echo": index})
        seconds = time.perf_counter() - started
    finally:
        use_transport(None)
    published = transport.redis.xlen(transport.stream("noop"))
    if published != count:
        raise BenchFailed(f"submitted {count} tasks but {published} reached the stream")
    return seconds


def _drain(
    target: BenchTarget, database: Database, load: QueueLoad, processes: int
) -> tuple[float, float]:
    """Seconds from the first task done to the last, and the workers' CPU seconds per task
    from the first poll that saw work done (start-up excluded)."""
    args = ["worker", "--agents", "noop", "--concurrency", str(load.concurrency)]
    workers = [start_moneta(target, args, f"worker-{i}.log") for i in range(processes)]
    started: tuple[float, int] | None = None  # (CPU seconds, tasks done) once work began
    try:
        deadline = time.monotonic() + load.timeout
        while (done := target.counts().status(TaskStatus.DONE)) < load.tasks:
            if any(w.poll() is not None for w in workers):
                raise BenchFailed("a moneta worker exited early")
            if time.monotonic() > deadline:
                raise BenchFailed(f"{done} of {load.tasks} tasks done after {load.timeout}s")
            if started is None and done:
                started = (sum(cpu_seconds(w.pid) for w in workers), done)
            time.sleep(0.2)  # sparse polling: the count query competes with the workers
        if started is None:  # all done before the first poll: start-up is included
            started = (0.0, 0)
        used = sum(cpu_seconds(w.pid) for w in workers) - started[0]
        cpu_per_task = used / (load.tasks - started[1])
    finally:
        for worker in workers:
            stop(worker)
    with database.transaction() as session:
        first, last = session.execute(
            select(func.min(Task.finished_at), func.max(Task.finished_at))
        ).one()
    if first is None or last is None or last <= first:
        raise BenchFailed(f"tasks have no usable finish times ({first}, {last})")
    return float((last - first).total_seconds()), cpu_per_task
