"""Run one peer the way its documentation says, on its own Redis db index, and time it.

Enqueue: the peer's own client sends `count` no-op tasks one call at a time from one thread.
Drain: the peer's worker processes start on the filled queue; each task INCRs a counter,
polled every 20 ms; the rate runs from the first poll that saw work done to the last task,
so worker start-up is excluded (as it is for Moneta, timed from its tasks' `finished_at`).
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from bench.peers.common import DONE_KEY, REDIS_URL_ENV
from bench.report import BenchFailed
from bench.target import ROOT

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Peer:
    label: str  # what ran, as the report shows it
    module: str  # holds the task and `enqueue(count)`
    workers: tuple[tuple[str, ...], ...]  # one command per worker process


def _celery(pool: str, concurrency: int) -> tuple[str, ...]:
    return (
        str(BIN / "celery"),
        "-A",
        "bench.peers.celery_app",
        "worker",
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "WARNING",
    )


def peers(redis_url: str) -> dict[str, Peer]:
    rq_worker = (str(BIN / "rq"), "worker", "--url", redis_url, "-w", "rq.worker.SimpleWorker")
    arq_worker = (str(BIN / "arq"), "bench.peers.arq_app.WorkerSettings")
    return {
        "dramatiq": Peer(
            "Dramatiq 2.2, 2 processes × 8 threads",
            "bench.peers.dramatiq_app",
            ((str(BIN / "dramatiq"), "bench.peers.dramatiq_app", "-p", "2", "-t", "8"),),
        ),
        "celery-prefork": Peer(
            "Celery 5.7, prefork pool, 2 processes, prefetch 16",
            "bench.peers.celery_app",
            (_celery("prefork", 2),),
        ),
        "celery-threads": Peer(
            "Celery 5.7, threads pool, 1 process × 8 threads, prefetch 16",
            "bench.peers.celery_app",
            (_celery("threads", 8),),
        ),
        "rq": Peer(
            "RQ 2.12, 2 SimpleWorker processes (no fork per job)",
            "bench.peers.rq_app",
            ((*rq_worker, "bench"),) * 2,
        ),
        "arq": Peer(
            "arq 0.28, 2 processes, max_jobs 200, no results kept",
            "bench.peers.arq_app",
            (arq_worker,) * 2,
        ),
    }


@dataclass(frozen=True)
class PeerResult:
    enqueue_per_second: float
    drain_per_second: float


def measure(
    peer: Peer, count: int, redis_url: str, log_dir: Path, timeout: float = 300
) -> PeerResult:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()  # the peers' own db index: nothing else lives there
    os.environ[REDIS_URL_ENV] = redis_url
    enqueue = importlib.import_module(peer.module).enqueue
    started = time.perf_counter()
    enqueue(count)
    enqueue_seconds = time.perf_counter() - started
    processes = [_start(command, redis_url, log_dir) for command in peer.workers]
    try:
        drain_per_second = _drain(client, count, processes, timeout)
    finally:
        for process in processes:
            _stop(process)
        client.flushdb()
        client.close()
    return PeerResult(count / enqueue_seconds, drain_per_second)


def _drain(
    client: redis.Redis, count: int, processes: list[subprocess.Popen[bytes]], timeout: float
) -> float:
    first: tuple[float, int] | None = None
    deadline = time.monotonic() + timeout
    while (done := int(client.get(DONE_KEY) or 0)) < count:
        now = time.perf_counter()
        if first is None and done:
            first = (now, done)
        if any(p.poll() is not None for p in processes):
            raise BenchFailed("a peer worker exited early; see its log in the data directory")
        if time.monotonic() > deadline:
            raise BenchFailed(f"{done} of {count} peer tasks done after {timeout}s")
        time.sleep(0.02)
    finished = time.perf_counter()
    if first is None:
        raise BenchFailed("all peer tasks were done before the first poll: nothing timed")
    return (count - first[1]) / (finished - first[0])


def _start(command: tuple[str, ...], redis_url: str, log_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, REDIS_URL_ENV: redis_url, "PYTHONPATH": str(ROOT)}
    log = (log_dir / f"peer-{Path(command[0]).name}.log").open("ab")
    return subprocess.Popen(
        list(command),
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the worker's process group (prefork and Dramatiq children included)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
