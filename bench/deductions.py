"""Concurrent token deductions from one wallet, in one process and in several, zero overspend.

Threads spend one token per idempotency key until the keys run out; there are more keys than
tokens, so some must be refused. In one process, `threads` threads share one `TokenWallet`
(one batching writer). In `processes` processes, each has its own wallet, pool and Redis
connection and `threads // processes` threads, as separate API processes would: only the
database guard keeps them exact together. Either way the run fails unless exactly the balance
was spent. CPU is the spending processes' own (user + system), per request, refusals included.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import redis

from agents.wallet import ledger
from agents.wallet.service import TokenWallet
from bench.report import BenchFailed, Metric
from bench.target import REDIS_PREFIX, BenchTarget
from core.settings import Settings
from db.session import Database

FEATURE = "analytics"


@dataclass(frozen=True)
class Spent:
    granted: int
    cpu_seconds: float


def run_deductions(
    target: BenchTarget, customer: int, balance: int, threads: int, processes: int
) -> list[Metric]:
    """Spend `balance` tokens (asked for 25 % more) from `customer`'s wallet; the metrics."""
    asks = balance + balance // 4
    run = uuid.uuid4().hex[:8]  # keys are unique across the ledger, not per customer
    keys = [f"{run}-{index}" for index in range(asks)]
    if processes == 1:
        started = time.perf_counter()
        spent = [
            _spend_with_a_wallet(target.database_url, target.redis_url, customer, keys, threads)
        ]
    else:
        shares = [keys[worker::processes] for worker in range(processes)]
        started, spent = _spend_in_processes(target, customer, shares, threads // processes)
    seconds = time.perf_counter() - started
    granted = sum(s.granted for s in spent)
    with target.database.transaction() as session:
        left = ledger.balance_of(session, customer)
        recomputed = ledger.ledger_balance(session, customer)
    if granted != balance or left != 0 or recomputed != 0:
        raise BenchFailed(
            f"overspend check failed: {granted} deductions granted of a {balance} balance; "
            f"{left} left (ledger says {recomputed})"
        )
    where = f"{processes} process{'es' if processes > 1 else ''} x {threads // processes} threads"
    label = f"{where}, {asks:,} asks against {balance:,} tokens"
    cpu = sum(s.cpu_seconds for s in spent)
    return [
        Metric(f"token deductions/s, zero overspend ({label})", "deductions/s", granted / seconds),
        Metric(f"wallet requests/s incl. refusals ({label})", "requests/s", asks / seconds),
        Metric(f"CPU per wallet request ({label})", "us", cpu / asks * 1e6),
    ]


def _spend_with_a_wallet(
    database_url: str, redis_url: str, customer: int, keys: list[str], threads: int
) -> Spent:
    """A wallet of its own (pool, Redis connection, writer), spent from by `threads` threads."""
    settings = Settings(database_url=database_url, redis_url=redis_url, redis_prefix=REDIS_PREFIX)
    database = Database(database_url, pool_size=threads)
    client = redis.Redis.from_url(redis_url)
    wallet = TokenWallet(database, client, settings)
    try:
        cpu_before = time.process_time()
        granted = _spend(wallet, customer, keys, threads)
        return Spent(granted, time.process_time() - cpu_before)
    finally:
        wallet.close()
        database.dispose()
        client.close()


def _spend(wallet: TokenWallet, customer: int, keys: list[str], threads: int) -> int:
    """`threads` threads each ask for one token per key until the keys run out: tokens granted."""
    left, lock = iter(keys), threading.Lock()

    def consume(_thread: int) -> int:
        won = 0
        while True:
            with lock:
                key = next(left, None)
            if key is None:
                return won
            if wallet.deduct(customer, FEATURE, 1, key).status == ledger.DEDUCTED:
                won += 1

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(consume, range(threads)))


def _spend_in_processes(
    target: BenchTarget, customer: int, shares: list[list[str]], threads: int
) -> tuple[float, list[Spent]]:
    """One process per share of keys, released together once all have started: (the release
    time, what each spent)."""
    context = multiprocessing.get_context("spawn")
    ready, go, out = context.Barrier(len(shares) + 1), context.Event(), context.Queue()
    workers = [
        context.Process(
            target=_spend_in_child,
            args=(target.database_url, target.redis_url, customer, share, threads, ready, go, out),
            daemon=True,
        )
        for share in shares
    ]
    for worker in workers:
        worker.start()
    try:
        ready.wait(120)
        started = time.perf_counter()
        go.set()
        spent = [out.get(timeout=600) for _ in workers]
    finally:
        for worker in workers:
            worker.join(30)
            if worker.is_alive():
                worker.kill()
    failed = [s for s in spent if isinstance(s, str)]
    if failed:
        raise BenchFailed(f"a spending process failed: {failed[0]}")
    return started, spent


def _spend_in_child(
    database_url: str,
    redis_url: str,
    customer: int,
    keys: list[str],
    threads: int,
    ready: Any,
    go: Any,
    out: Any,
) -> None:
    ready.wait()
    go.wait()
    try:
        out.put(_spend_with_a_wallet(database_url, redis_url, customer, keys, threads))
    except Exception as error:  # the parent fails the run with it
        out.put(f"{type(error).__name__}: {error}")
