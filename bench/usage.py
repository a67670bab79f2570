"""Usage ingestion: single events and batches of 1,000, over HTTP and in process, then resends.

(a) Over HTTP: a real `moneta api` process, a customer API key (X-API-Key), `POST
/api/v1/usage` with one event per request (closed loop), then `{"events": [...]}` of 1,000.
(b) In process: the same events straight into `agents.metering.ingest.record_usage`, one
transaction per event and one per 1,000, so HTTP's share of the cost shows.
(c) Duplicates: every HTTP request of (a) sent again; the run fails unless the stored count
and sum are unchanged (no double count). Every event has its own idempotency key.
The API's own rate limit is lifted for the run (`bench.processes.unlimited_meters`): the
benchmark measures ingestion, not the 429s a real plan would answer.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from agents.metering.ingest import record_usage
from agents.metering.meters import load_meters
from bench.loadgen import closed_loop, post_request
from bench.processes import start_api, stop, tree_cpu_seconds, unlimited_meters
from bench.report import BenchFailed, Metric
from bench.target import BenchTarget
from core.clock import utcnow
from db.models import Customer, UsageEvent
from db.session import Database
from orchestrator.access.api_keys import create_api_key

METRIC = "exports"  # a `count` meter: each event adds one, so sums are easy to check
BATCH = 1_000
LAGO = {"single": 1_000, "batched": 10_000}  # Lago's published Postgres-only figures
TARGET = {"single": 2_000, "batched": 20_000}


@dataclass(frozen=True)
class UsageLoad:
    singles: int  # HTTP, one event per request
    connections: int
    batches: int  # HTTP, BATCH events per request
    batch_connections: int
    in_process_singles: int
    in_process_batches: int


FULL = UsageLoad(4_000, 16, 40, 4, 4_000, 40)
QUICK = UsageLoad(300, 8, 3, 2, 300, 3)


@dataclass(frozen=True)
class BenchCustomer:
    id: int
    stripe_id: str
    api_key: str


def run(target: BenchTarget, quick: bool, api_workers: int = 1) -> list[Metric]:
    """`api_workers`: `moneta api --workers N` processes sharing the port (`--api-workers`)."""
    load = QUICK if quick else FULL
    customer = _customer_with_key(target)
    meters_file = unlimited_meters(target.data_dir)
    run_id = uuid.uuid4().hex[:8]
    env = {"MONETA_METERS_FILE": str(meters_file)}
    process, port = start_api(target, env=env, workers=api_workers)
    http_path = f"HTTP, API key, {api_workers} API process{'es' if api_workers > 1 else ''}"
    try:
        http, resends = asyncio.run(
            _over_http(target, process.pid, port, customer, load, run_id, http_path)
        )
    finally:
        stop(process)
    in_process = _in_process(target, customer, load, run_id, meters_file)
    return [*http, *in_process, *resends]


def _customer_with_key(target: BenchTarget) -> BenchCustomer:
    stripe_id = f"cus_bench_{uuid.uuid4().hex[:10]}"
    with target.database.transaction() as session:
        customer = Customer(stripe_customer_id=stripe_id)
        session.add(customer)
        session.flush()
        secret = create_api_key(session, customer.id, actor="bench").secret
        return BenchCustomer(customer.id, stripe_id, secret)


def _event(customer: BenchCustomer, key: str, timestamp: str) -> dict[str, object]:
    return {
        "customer": customer.stripe_id,
        "metric": METRIC,
        "quantity": 1,
        "timestamp": timestamp,
        "idempotency_key": key,
    }


def _requests(port: int, customer: BenchCustomer, bodies: list[object]) -> list[bytes]:
    headers = {"Content-Type": "application/json", "X-API-Key": customer.api_key}
    return [
        post_request("127.0.0.1", port, "/api/v1/usage", json.dumps(body).encode(), headers)
        for body in bodies
    ]


async def _over_http(
    target: BenchTarget,
    pid: int,
    port: int,
    customer: BenchCustomer,
    load: UsageLoad,
    run_id: str,
    path: str,
) -> tuple[list[Metric], list[Metric]]:
    now = utcnow().isoformat()
    singles = _requests(
        port, customer, [_event(customer, f"{run_id}s{i}", now) for i in range(load.singles)]
    )
    batches = _requests(
        port,
        customer,
        [
            {"events": [_event(customer, f"{run_id}b{b}-{i}", now) for i in range(BATCH)]}
            for b in range(load.batches)
        ],
    )
    metrics: list[Metric] = []
    stored = 0
    for kind, requests, events, connections in (
        ("single", singles, load.singles, load.connections),
        ("batched", batches, load.batches * BATCH, load.batch_connections),
    ):
        cpu_before = tree_cpu_seconds(pid)
        result = await closed_loop("127.0.0.1", port, requests, connections)
        cpu = tree_cpu_seconds(pid) - cpu_before
        _check_statuses(result.statuses, kind)
        stored += events
        _check_stored(target, customer, stored)
        rate = events / result.seconds
        label = _label(kind, events, f"{connections} connections", path)
        metrics += [
            Metric(f"events/s ({label}) {_versus(kind)}", "events/s", rate),
            Metric(f"API CPU per event ({label})", "µs", cpu / events * 1e6),
        ]
    resent = await closed_loop("127.0.0.1", port, singles + batches, load.connections)
    _check_statuses(resent.statuses, "resent")
    _check_stored(target, customer, stored)  # unchanged: no resend was counted
    events = load.singles + load.batches * BATCH
    resend_label = f"{events:,} events resent, {load.connections} connections, none counted"
    return metrics, [
        Metric(
            f"duplicate events/s acknowledged ({resend_label})", "events/s", events / resent.seconds
        )
    ]


def _in_process(
    target: BenchTarget, customer: BenchCustomer, load: UsageLoad, run_id: str, meters_file: Path
) -> list[Metric]:
    """`record_usage` on one thread: a transaction per event, then one per batch."""
    meters = load_meters(meters_file)
    database = Database(target.database_url, pool_size=1)
    now = utcnow().isoformat()
    stored = load.singles + load.batches * BATCH
    metrics = []
    try:
        for kind, groups in (
            (
                "single",
                [[_event(customer, f"{run_id}ps{i}", now)] for i in range(load.in_process_singles)],
            ),
            (
                "batched",
                [
                    [_event(customer, f"{run_id}pb{b}-{i}", now) for i in range(BATCH)]
                    for b in range(load.in_process_batches)
                ],
            ),
        ):
            events = sum(len(group) for group in groups)
            started = time.perf_counter()
            for group in groups:
                with database.transaction() as session:
                    result = record_usage(session, meters, group, caller_customer_id=customer.id)
                if result.count("accepted") != len(group):
                    raise BenchFailed(f"in process: {result.as_dict()['rejected'][:3]}")
            seconds = time.perf_counter() - started
            stored += events
            _check_stored(target, customer, stored)
            rate = events / seconds
            label = _label(kind, events, "1 thread", "in process, record_usage")
            metrics.append(Metric(f"events/s ({label}) {_versus(kind)}", "events/s", rate))
    finally:
        database.dispose()
    return metrics


def _label(kind: str, events: int, concurrency: str, path: str) -> str:
    size = "1 event" if kind == "single" else f"{BATCH:,} events"
    return f"{path}, {size} per request, {events:,} events, {concurrency}"


def _versus(kind: str) -> str:
    return f"[Lago {LAGO[kind]:,}/s, target {TARGET[kind]:,}/s]"


def _check_statuses(statuses: list[int], kind: str) -> None:
    refused = [s for s in statuses if s != 202]
    if refused:
        raise BenchFailed(f"{len(refused)} of {len(statuses)} {kind} requests did not get 202")


def _check_stored(target: BenchTarget, customer: BenchCustomer, expected: int) -> None:
    """Exactly `expected` events of the metric, each counted once (sum of quantity 1 each)."""
    with target.database.transaction() as session:
        count, total = session.execute(
            select(func.count(), func.coalesce(func.sum(UsageEvent.quantity), 0)).where(
                UsageEvent.customer_id == customer.id, UsageEvent.metric == METRIC
            )
        ).one()
    if count != expected or int(total) != expected:
        raise BenchFailed(f"expected {expected:,} stored events, found {count:,} (sum {total})")
