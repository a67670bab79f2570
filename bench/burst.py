"""A month-start renewal burst drained by `moneta worker` processes, and proof it was done.

`bench.burst_seed` writes R customers, their subscriptions and one `invoice.paid` each into
the inbox with its `stripe.event` task, exactly as the webhook intake stores a delivery
(intake has its own benchmark, so HTTP is left out here), and the ids are published to the
billing stream. Then `processes` workers (every agent, `concurrency` threads each) drain it:
billing mirrors invoice + payment, posts the journal, records the `payment_succeeded`
analytics event and hands on receipt e-mails (file outbox) and partner commissions: three
tasks per renewal. The drain time runs from the first task finished to the last (worker
start-up excluded); wall time includes it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from sqlalchemy import text

from bench.burst_seed import amount_of, seed_renewals
from bench.processes import cpu_seconds, start_moneta, stop
from bench.report import BenchFailed, Metric
from bench.target import REDIS_PREFIX, BenchTarget
from orchestrator.transport import StreamTransport

PUBLISH_CHUNK = 10_000


@dataclass(frozen=True)
class BurstLoad:
    renewals: int
    concurrency: int  # threads per worker process
    timeout: float  # seconds the drain may take before the run fails


FULL = BurstLoad(renewals=100_000, concurrency=8, timeout=900)
# 400 renewals make 2,000 tasks: 2,000 renewals drain in ~100 s on a busy 2-core machine,
# which would take the whole --quick suite past its two minutes.
QUICK = BurstLoad(renewals=400, concurrency=8, timeout=120)


def run(target: BenchTarget, quick: bool, processes: int = 2) -> list[Metric]:
    """`processes`: `moneta worker` processes draining the burst (`--workers`)."""
    if target.database.engine.dialect.name != "postgresql":
        raise BenchFailed("the burst benchmark seeds with PostgreSQL's generate_series")
    load = QUICK if quick else FULL
    started = time.perf_counter()
    task_ids = seed_renewals(target, load.renewals)
    seed_seconds = time.perf_counter() - started
    _publish(target, task_ids)
    label = f"{load.renewals:,} renewals, {processes} workers × {load.concurrency} threads"
    load_before, commits_before = _load_average(), _commits(target)
    drained = _drain(target, load, processes)
    load_after, commits = _load_average(), _commits(target) - commits_before
    by_agent = _verify(target, load.renewals, target.data_dir / "outbox")
    metrics = [
        Metric(
            f"seed {load.renewals:,} customers + events + tasks (set-based SQL)", "s", seed_seconds
        ),
        Metric(f"drain, first task done to last ({label})", "s", drained.seconds),
        Metric(f"renewals/s ({label})", "events/s", (load.renewals - 1) / drained.seconds),
        Metric(f"wall time incl. worker start-up ({label})", "s", drained.wall_seconds),
        Metric("load average (1 min) before the drain", "load", load_before),
        Metric("load average (1 min) after the drain", "load", load_after),
        Metric("PostgreSQL commits per renewal", "commits", commits / load.renewals),
    ]
    metrics += [Metric(f"tasks done by agent {agent}", "tasks", n) for agent, n in by_agent]
    metrics += [
        Metric(f"CPU of {name} (whole run, workers' start-up included)", "s", cpu)
        for name, cpu, _rss in drained.processes
    ]
    metrics.append(
        Metric(
            "CPU per renewal after start-up, workers + PostgreSQL backends + Redis",
            "ms",
            1000 * drained.cpu_per_renewal,
        )
    )
    metrics += [
        Metric(f"peak RSS of {name}", "MiB", rss)
        for name, _cpu, rss in drained.processes
        if rss is not None
    ]
    return metrics


@dataclass(frozen=True)
class Drained:
    seconds: float
    wall_seconds: float
    # (name, CPU seconds during the run, peak resident MiB where measured)
    processes: list[tuple[str, float, float | None]]
    cpu_per_renewal: float  # workers + servers, from the first renewal done (start-up excluded)


def _publish(target: BenchTarget, task_ids: list[int]) -> None:
    """The ids onto the billing stream, as the intake's after-commit hook would."""
    client = redis.Redis.from_url(target.redis_url)
    transport = StreamTransport(client, REDIS_PREFIX)
    try:
        for first in range(0, len(task_ids), PUBLISH_CHUNK):
            transport.publish(("billing", tid) for tid in task_ids[first : first + PUBLISH_CHUNK])
    finally:
        client.close()


def _drain(target: BenchTarget, load: BurstLoad, processes: int) -> Drained:
    """Start the workers, wait until every task is done, return times and process costs."""
    server_cpu = _cpu_snapshot(_server_pids(target))
    args = ["worker", "--concurrency", str(load.concurrency)]
    started = time.perf_counter()
    workers = [start_moneta(target, args, f"worker-{i}.log") for i in range(processes)]
    steady: tuple[int, dict[int, float]] | None = None  # (renewals done, CPU) once work began
    try:
        deadline = time.monotonic() + load.timeout
        while (progress := _progress(target)) != (load.renewals, 0):
            if any(w.poll() is not None for w in workers):
                raise BenchFailed("a moneta worker exited early")
            if time.monotonic() > deadline:
                raise BenchFailed(f"renewals not drained after {load.timeout}s")
            if steady is None and progress[0]:
                steady = (
                    progress[0],
                    _cpu_snapshot([w.pid for w in workers] + _server_pids(target)),
                )
            time.sleep(0.5)
        wall = time.perf_counter() - started
        costs: list[tuple[str, float, float | None]] = [
            (f"worker {i + 1}", cpu_seconds(w.pid), _peak_rss_mib(w.pid))
            for i, w in enumerate(workers)
        ]
        costs += [
            (name, sum(_cpu_of([pid]) - server_cpu.get(pid, 0.0) for pid in pids), None)
            for name, pids in _server_processes(target).items()
        ]
        done_then, cpu_then = steady or (0, {})
        now = _cpu_snapshot([w.pid for w in workers] + _server_pids(target))
        steady_cpu = sum(cpu - cpu_then.get(pid, 0.0) for pid, cpu in now.items())
        per_renewal = steady_cpu / max(1, load.renewals - done_then)
    finally:
        for worker in workers:
            stop(worker)
    with target.database.engine.connect() as connection:
        first, last = connection.execute(
            text("SELECT min(finished_at), max(finished_at) FROM tasks")
        ).one()
    return Drained(float((last - first).total_seconds()), wall, costs, per_renewal)


def _cpu_snapshot(pids: list[int]) -> dict[int, float]:
    return {pid: _cpu_of([pid]) for pid in pids}


def _server_pids(target: BenchTarget) -> list[int]:
    return [pid for pids in _server_processes(target).values() for pid in pids]


def _server_processes(target: BenchTarget) -> dict[str, list[int]]:
    """The PostgreSQL backends serving the bench database (not the other databases' on a
    shared server) and the Redis server; their CPU is read from /proc, where readable."""
    database = target.database.engine.url.database or ""
    backends = [pid for pid in _pids("postgres") if f" {database} " in _cmdline(pid)]
    return {
        "PostgreSQL backends of the bench database": backends,
        "Redis server": _pids("redis-server"),
    }


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _progress(target: BenchTarget) -> tuple[int, int]:
    """(billing tasks done, tasks pending or running); a dead task fails the run."""
    with target.database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT agent, status, count(*) FROM tasks GROUP BY agent, status")
        ).all()
    if dead := [(agent, n) for agent, status, n in rows if status == "dead"]:
        raise BenchFailed(f"dead-lettered tasks: {dead}")
    open_tasks = sum(n for _agent, status, n in rows if status in ("pending", "running"))
    billing = sum(n for agent, status, n in rows if agent == "billing" and status == "done")
    return billing, open_tasks


def _verify(target: BenchTarget, renewals: int, outbox: Path) -> list[tuple[str, int]]:
    """The work was done once each: tasks by agent, and a check of every effect."""
    expected_paid = sum(amount_of(n) for n in range(1, renewals + 1))
    checks = {
        "tasks not done": ("SELECT count(*) FROM tasks WHERE status <> 'done'", 0),
        "events applied": (
            "SELECT count(*) FROM stripe_events WHERE outcome = 'applied'",
            renewals,
        ),
        "paid invoices": ("SELECT count(*) FROM invoices WHERE status = 'paid'", renewals),
        "payments": ("SELECT count(*) FROM payments WHERE status = 'succeeded'", renewals),
        "sum of payments": ("SELECT coalesce(sum(amount), 0) FROM payments", expected_paid),
        "receipts sent": (
            "SELECT count(*) FROM notifications WHERE template = 'receipt' AND status = 'sent'",
            renewals,
        ),
        "notifications": ("SELECT count(*) FROM notifications", renewals),
        "e-mail ledger claims": (
            "SELECT count(*) FROM external_calls WHERE service = 'email' AND status = 'succeeded'",
            renewals,
        ),
        "analytics events": (
            "SELECT count(*) FROM analytics_events WHERE type = 'payment_succeeded'",
            renewals,
        ),
    }
    with target.database.engine.connect() as connection:
        wrong = {
            name: found
            for name, (sql, expected) in checks.items()
            if (found := connection.scalar(text(sql))) != expected
        }
        by_agent = connection.execute(
            text("SELECT agent, count(*) FROM tasks GROUP BY agent ORDER BY agent")
        ).all()
    files = len(list(outbox.glob("*.eml"))) if outbox.is_dir() else 0
    if files != renewals:
        wrong["e-mail files in the outbox"] = files
    if wrong:
        raise BenchFailed(f"renewal burst: expected {renewals} of each, found {wrong}")
    return [(agent, int(n)) for agent, n in by_agent]


def _commits(target: BenchTarget) -> int:
    """Transactions committed in the bench database so far (the statistics collector's
    count, which lags by up to half a second: the drain's polls add a few)."""
    time.sleep(0.6)
    with target.database.engine.connect() as connection:
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(
            connection.scalar(
                text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            )
            or 0
        )


def _load_average() -> float:
    return os.getloadavg()[0]


def _pids(comm: str) -> list[int]:
    """Processes whose command name is `comm` (Linux /proc; empty where we cannot read)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == comm:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:  # exited meanwhile
            continue
    return total


def _peak_rss_mib(pid: int) -> float:
    """The process's high-water resident set (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
