"""Access checks and token deductions: in process, through `moneta api`, and under contention.

(a) Policy decisions in process: the shipped policy's compiled rules over a mix of users,
assets and actions, one thread; decisions per second.
(b) `POST /api/v1/access/check` through a real `moneta api` process with the customer's API
key (its plan's rate limit lifted), every check priced so it also deducts tokens: closed
loop throughput, then p50/p99 at a fixed offered rate.
(c) Concurrent deductions (`bench.deductions`): threads spend one token at a time from one
wallet that holds fewer tokens than they ask for, in one process, then the same threads split
over several processes; deductions per second, CPU per request, and a check that exactly the
balance was spent (zero overspend) or the run fails.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from itertools import cycle, islice

from agents.access.engine import PolicyEngine, UserContext
from agents.access.policy import load_policy
from agents.wallet import ledger
from bench.deductions import run_deductions
from bench.loadgen import closed_loop, open_loop, post_request
from bench.processes import start_api, stop, tree_cpu_seconds, unlimited_meters
from bench.report import BenchFailed, Metric
from bench.target import BenchTarget
from db.models import Customer
from orchestrator.access.api_keys import create_api_key


@dataclass(frozen=True)
class AccessLoad:
    decisions: int  # (a)
    checks: int  # (b) closed loop
    connections: int
    rates: tuple[float, ...]  # (b) open loop, offered per second (the target's is 2,000/s)
    seconds: float  # (b) per offered rate
    balance: int  # (c) tokens in the contended wallet
    threads: int
    processes: int  # (c) the same threads split over this many processes


FULL = AccessLoad(200_000, 3_000, 16, (200, 2_000), 10, 10_000, 64, 2)
QUICK = AccessLoad(20_000, 200, 8, (50,), 2, 400, 16, 2)

USERS = [
    UserContext("free", 0, frozenset()),
    UserContext("pro", 500, frozenset({"sso"})),
    UserContext("enterprise", 0, frozenset({"sso", "priority_support"})),
    UserContext("starter", 20, frozenset()),
]
ASKS = [
    (["model:llm-base"], "execute"),
    (["dataset:market"], "read"),
    (["content:getting-started"], "read"),
    (["model:llm-base", "dataset:training-corpus"], "derive"),
]


def run(target: BenchTarget, quick: bool, api_workers: int = 1) -> list[Metric]:
    """`api_workers`: `moneta api --workers N` processes serving part (b) (`--api-workers`)."""
    load = QUICK if quick else FULL
    return [
        *_decisions_in_process(load),
        *_checks_over_http(target, load, api_workers),
        *_deductions(target, load),
    ]


def _decisions_in_process(load: AccessLoad) -> list[Metric]:
    engine = PolicyEngine(load_policy())
    mix = list(islice(cycle([(u, a) for u in USERS for a in ASKS]), 1_000))
    started = time.perf_counter()
    for index in range(load.decisions):
        user, (assets, action) = mix[index % 1_000]
        engine.decide(user, assets, action)
    seconds = time.perf_counter() - started
    label = f"{load.decisions:,} decisions, shipped policy, 1 thread"
    return [
        Metric(f"policy decisions/s in process ({label})", "decisions/s", load.decisions / seconds)
    ]


def _customer_with_tokens(target: BenchTarget, tokens: int) -> int:
    with target.database.transaction() as session:
        customer = Customer(stripe_customer_id=f"cus_bench_{uuid.uuid4().hex[:10]}")
        session.add(customer)
        session.flush()
        ledger.post_grant(
            session,
            ledger.NewGrant(customer.id, tokens, "operator", f"bench:{uuid.uuid4().hex}"),
        )
        return customer.id


def _api_key(target: BenchTarget, customer: int) -> str:
    """The customer's own key: its product asks before serving each of its users' requests."""
    with target.database.transaction() as session:
        return create_api_key(session, customer, actor="bench").secret


def _check_requests(port: int, api_key: str, count: int, run_id: str) -> list[bytes]:
    headers = {"Content-Type": "application/json", "X-API-Key": api_key}
    return [
        post_request(
            "127.0.0.1",
            port,
            "/api/v1/access/check",
            json.dumps(
                {
                    "assets": ["dataset:market"],
                    "action": "read",
                    "idempotency_key": f"{run_id}-{index}",
                }
            ).encode(),
            headers,
        )
        for index in range(count)
    ]


def _checks_over_http(target: BenchTarget, load: AccessLoad, api_workers: int) -> list[Metric]:
    offered = [int(rate * load.seconds) for rate in load.rates]
    checks = load.checks + sum(offered)
    customer = _customer_with_tokens(target, 2 * checks + 10)
    api_key = _api_key(target, customer)
    env = {"MONETA_METERS_FILE": str(unlimited_meters(target.data_dir))}
    process, port = start_api(target, env=env, workers=api_workers)
    try:
        run_id = uuid.uuid4().hex[:8]
        closed_requests = _check_requests(port, api_key, load.checks, f"{run_id}c")
        cpu_before = tree_cpu_seconds(process.pid)
        closed = asyncio.run(closed_loop("127.0.0.1", port, closed_requests, load.connections))
        cpu_per_check = (tree_cpu_seconds(process.pid) - cpu_before) / load.checks
        opened = [
            asyncio.run(
                open_loop(
                    "127.0.0.1", port, _check_requests(port, api_key, count, f"{run_id}o{n}"), rate
                )
            )
            for n, (rate, count) in enumerate(zip(load.rates, offered, strict=True))
        ]
    finally:
        stop(process)
    for statuses in (closed.statuses, *(o.statuses for o in opened)):
        refused = [s for s in statuses if s != 200]
        if refused:
            raise BenchFailed(f"{len(refused)} of {len(statuses)} access checks did not get 200")
    with target.database.transaction() as session:
        left = ledger.balance_of(session, customer)
    if left != 10:
        raise BenchFailed(f"expected 10 tokens left after {2 * checks:,} spent, found {left}")
    processes = f"{api_workers} API process{'es' if api_workers > 1 else ''}"
    closed_label = (
        f"closed loop, {load.checks:,} checks, {load.connections} connections, {processes}"
    )
    metrics = [
        Metric(f"priced access checks/s over HTTP ({closed_label})", "checks/s", closed.per_second),
        Metric(f"API CPU per check ({closed_label})", "ms", cpu_per_check * 1000),
    ]
    for result in opened:
        label = (
            f"open loop, {result.offered_rate:,.0f}/s offered for {load.seconds:g} s, {processes}"
        )
        metrics += [
            Metric(f"achieved rate ({label})", "checks/s", result.achieved_rate),
            Metric(f"p50 latency ({label})", "ms", result.median * 1000),
            Metric(f"p99 latency ({label})", "ms", result.percentile(0.99) * 1000),
        ]
    return metrics


def _deductions(target: BenchTarget, load: AccessLoad) -> list[Metric]:
    return [
        metric
        for processes in (1, load.processes)
        for metric in run_deductions(
            target,
            _customer_with_tokens(target, load.balance),
            load.balance,
            load.threads,
            processes,
        )
    ]
