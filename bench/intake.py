"""Webhook intake through a real `moneta api` process: throughput, then latency at a fixed rate.

(a) Closed loop: `CONNECTIONS` keep-alive connections each send their next signed event as
soon as the previous reply arrived; accepted webhooks per second.
(b) Open loop: events offered at fixed rates on a schedule, replies or not; latency from
each scheduled send time (no coordinated omission) and the rate actually achieved. The
target rate (1,000/s) shows whether we keep up; a lower one shows latency when we do.
The generator runs on the same machine and shares its cores with the server.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from bench.deliveries import signed_requests
from bench.loadgen import closed_loop, open_loop
from bench.processes import start_api, stop, tree_cpu_seconds
from bench.report import BenchFailed, Metric
from bench.target import BenchTarget


@dataclass(frozen=True)
class IntakeLoad:
    events: int  # closed loop
    connections: int
    rates: tuple[float, ...]  # open loop, offered per second, each for `seconds`
    seconds: float


FULL = IntakeLoad(events=5000, connections=32, rates=(250, 1000), seconds=10)
QUICK = IntakeLoad(events=300, connections=16, rates=(100,), seconds=2)


def run(target: BenchTarget, quick: bool, api_workers: int = 1) -> list[Metric]:
    """`api_workers`: `moneta api --workers N` processes sharing the port (`--api-workers`)."""
    load = QUICK if quick else FULL
    process, port = start_api(target, workers=api_workers)
    try:
        return asyncio.run(_measure(target, process.pid, port, load, api_workers))
    finally:
        stop(process)


async def _measure(
    target: BenchTarget, pid: int, port: int, load: IntakeLoad, api_workers: int
) -> list[Metric]:
    run_id = uuid.uuid4().hex[:8]
    requests = signed_requests(load.events, port, f"{run_id}c")
    cpu_before = tree_cpu_seconds(pid)
    closed = await closed_loop("127.0.0.1", port, requests, load.connections)
    cpu_per_event = (tree_cpu_seconds(pid) - cpu_before) / load.events
    _check_accepted(closed.statuses, target, expected_stored=load.events)

    processes = f"{api_workers} API process{'es' if api_workers > 1 else ''}"
    closed_label = (
        f"closed loop, {load.events:,} events, {load.connections} connections, {processes}"
    )
    metrics = [
        Metric(f"accepted webhooks/s ({closed_label})", "webhooks/s", closed.per_second),
        Metric(f"API CPU per webhook ({closed_label})", "ms", cpu_per_event * 1000),
    ]
    stored = load.events
    for rate in load.rates:
        offered = int(rate * load.seconds)
        requests = signed_requests(offered, port, f"{run_id}o{rate:g}")
        opened = await open_loop("127.0.0.1", port, requests, rate)
        stored += offered
        _check_accepted(opened.statuses, target, expected_stored=stored)
        label = f"open loop, {rate:,.0f}/s offered for {load.seconds:g} s, {processes}"
        metrics += [
            Metric(f"achieved rate ({label})", "webhooks/s", opened.achieved_rate),
            Metric(f"p50 latency ({label})", "ms", opened.median * 1000),
            Metric(f"p99 latency ({label})", "ms", opened.percentile(0.99) * 1000),
            Metric(f"max latency ({label})", "ms", max(opened.latencies) * 1000),
        ]
    return metrics


def _check_accepted(statuses: list[int], target: BenchTarget, *, expected_stored: int) -> None:
    """Every reply was 200, and every event is in the inbox with its one billing task."""
    refused = [s for s in statuses if s != 200]
    if refused:
        raise BenchFailed(f"{len(refused)} of {len(statuses)} webhooks got a non-200 reply")
    counts = target.counts()
    if counts.events != expected_stored or counts.tasks != expected_stored:
        raise BenchFailed(f"expected {expected_stored} events and tasks, found {counts}")
