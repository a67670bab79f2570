"""Token deductions against a real database and Redis: atomic, idempotent, never overspent."""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis

from agents.wallet.ledger import DEDUCTED, DUPLICATE, INSUFFICIENT, post_debit
from agents.wallet.service import TokenWallet
from core.clock import frozen, utcnow
from core.errors import InvalidInput, NotFound
from core.settings import Settings
from db.session import Database
from tests.support.wallets import balances, consumed, customer_with_tokens, grant

FEATURE = "content_generation"


@pytest.fixture
def wallet(
    database: Database, redis_client: redis.Redis, settings: Settings
) -> Iterator[TokenWallet]:
    tokens = TokenWallet(database, redis_client, settings)
    yield tokens
    tokens.close()


def spend_concurrently(wallet: TokenWallet, customer_id: int, consumers: int) -> list[str]:
    """`consumers` threads released together, each asking for one token."""
    start = threading.Barrier(consumers)

    def consume(index: int) -> str:
        start.wait()
        return wallet.deduct(customer_id, FEATURE, 1, f"req-{index}").status

    with ThreadPoolExecutor(consumers) as pool:
        return list(pool.map(consume, range(consumers)))


def test_fifty_concurrent_threads_spend_exactly_forty(
    wallet: TokenWallet, database: Database
) -> None:
    customer = customer_with_tokens(database, 40)
    outcomes = spend_concurrently(wallet, customer, 50)
    assert outcomes.count(DEDUCTED) == 40
    assert outcomes.count(INSUFFICIENT) == 10
    assert balances(database, customer) == (0, 0)
    assert consumed(database, customer) == 40


def _consumer_process(
    settings_json: str, customer_id: int, worker: int, threads: int, start: object, out: object
) -> None:
    """One process of consumers: its own database pool and Redis connection, as in production."""
    settings = Settings.model_validate_json(settings_json)
    database = Database(settings.effective_database_url, pool_size=threads)
    client = redis.Redis.from_url(settings.redis_url or "")
    wallet = TokenWallet(database, client, settings)
    barrier = threading.Barrier(threads)

    def consume(index: int) -> str:
        barrier.wait()
        return wallet.deduct(customer_id, FEATURE, 1, f"p{worker}-t{index}").status

    start.wait()  # type: ignore[attr-defined]
    with ThreadPoolExecutor(threads) as pool:
        for status in pool.map(consume, range(threads)):
            out.put(status)  # type: ignore[attr-defined]
    wallet.close()
    database.dispose()


def test_fifty_consumers_in_five_processes_spend_exactly_forty(
    wallet: TokenWallet, database: Database, settings: Settings
) -> None:
    customer = customer_with_tokens(database, 40)
    context = multiprocessing.get_context("spawn")
    start, out = context.Event(), context.Queue()
    processes = [
        context.Process(
            target=_consumer_process,
            args=(settings.model_dump_json(), customer, worker, 10, start, out),
        )
        for worker in range(5)
    ]
    for process in processes:
        process.start()
    start.set()
    outcomes = [out.get(timeout=120) for _ in range(50)]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert outcomes.count(DEDUCTED) == 40
    assert balances(database, customer) == (0, 0)
    assert consumed(database, customer) == 40


def test_redis_flushed_mid_way_is_rebuilt_and_nothing_is_overspent(
    wallet: TokenWallet, database: Database, redis_client: redis.Redis
) -> None:
    customer = customer_with_tokens(database, 40)
    tenth = threading.Event()
    successes: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def consume(index: int) -> int:
        start.wait()
        won = 0
        for attempt in range(2):
            if wallet.deduct(customer, FEATURE, 1, f"c{index}-{attempt}").status == DEDUCTED:
                won += 1
                with lock:
                    successes.append(1)
                    if len(successes) == 10:
                        tenth.set()
        return won

    with ThreadPoolExecutor(50) as pool:
        results = pool.map(consume, range(50))
        assert tenth.wait(60)
        redis_client.flushdb()
        total = sum(results)
    assert total == 40
    assert balances(database, customer) == (0, 0)
    assert consumed(database, customer) == 40
    # The cache came back from the database (or was dropped as stale, to be rebuilt next time).
    cached = redis_client.get(wallet.reservations.balance_key(customer))
    assert cached is None or int(cached) == 0


def test_a_repeated_idempotency_key_is_deducted_once_even_after_a_flush(
    wallet: TokenWallet, database: Database, redis_client: redis.Redis
) -> None:
    customer = customer_with_tokens(database, 100)
    assert wallet.deduct(customer, FEATURE, 30, "job-7").status == DEDUCTED
    assert wallet.deduct(customer, FEATURE, 30, "job-7").status == DUPLICATE
    redis_client.flushdb()
    assert wallet.deduct(customer, FEATURE, 30, "job-7").status == DUPLICATE
    assert wallet.balance(customer) == 70
    assert balances(database, customer) == (70, 70)


def test_tokens_credited_behind_the_cache_can_be_spent_at_once(
    wallet: TokenWallet, database: Database
) -> None:
    customer = customer_with_tokens(database, 5)
    assert wallet.deduct(customer, FEATURE, 5, "a").status == DEDUCTED  # cache now says 0
    with database.transaction() as session:
        grant(session, customer, 50)  # a credit the cache has not heard of
    assert wallet.deduct(customer, FEATURE, 20, "b").status == DEDUCTED
    assert wallet.deduct(customer, FEATURE, 20, "c").status == DEDUCTED
    assert wallet.deduct(customer, FEATURE, 20, "d").status == INSUFFICIENT
    assert balances(database, customer) == (10, 10)


def test_an_expired_grant_cannot_be_spent_and_its_rest_is_booked_as_expired(
    wallet: TokenWallet, database: Database
) -> None:
    now = utcnow()
    customer = customer_with_tokens(database, 30, expires_at=now + timedelta(hours=1))
    with database.transaction() as session:
        grant(session, customer, 10)  # no expiry
    assert wallet.deduct(customer, FEATURE, 25, "before").status == DEDUCTED  # from the expiring
    with frozen(now + timedelta(hours=2)):
        assert wallet.balance(customer) == 10
        assert wallet.deduct(customer, FEATURE, 11, "after").status == INSUFFICIENT
        assert wallet.deduct(customer, FEATURE, 10, "after-2").status == DEDUCTED
    assert balances(database, customer) == (0, 0)


@pytest.mark.parametrize(
    ("feature", "tokens", "key", "code"),
    [
        ("teleportation", 1, "k", "bad_feature"),
        (FEATURE, 0, "k", "bad_tokens"),
        (FEATURE, -5, "k", "bad_tokens"),
        (FEATURE, "3", "k", "bad_tokens"),
        (FEATURE, 1, "", "idempotency_key_required"),
    ],
)
def test_bad_deductions_are_refused_with_a_clear_error(
    wallet: TokenWallet, database: Database, feature: str, tokens: object, key: str, code: str
) -> None:
    customer = customer_with_tokens(database, 10)
    with pytest.raises(InvalidInput) as refused:
        wallet.deduct(customer, feature, tokens, key)  # type: ignore[arg-type]
    assert refused.value.code == code
    assert wallet.balance(customer) == 10


def test_an_unknown_customer_is_refused(wallet: TokenWallet) -> None:
    with pytest.raises(NotFound):
        wallet.deduct(987_654, FEATURE, 1, f"k-{uuid.uuid4().hex}")


def test_twins_of_one_key_sent_together_deduct_once(
    wallet: TokenWallet, database: Database
) -> None:
    customer = customer_with_tokens(database, 100)
    start = threading.Barrier(20)

    def ask(_index: int) -> str:
        start.wait()
        return wallet.deduct(customer, FEATURE, 7, "the-same-job").status

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(ask, range(20)))
    assert outcomes.count(DEDUCTED) == 1
    assert outcomes.count(DUPLICATE) == 19
    assert balances(database, customer) == (93, 93)


def test_scripts_redis_lost_are_loaded_again(
    wallet: TokenWallet, database: Database, redis_client: redis.Redis
) -> None:
    customer = customer_with_tokens(database, 10)
    assert wallet.deduct(customer, FEATURE, 5, "before").status == DEDUCTED  # cache holds 5
    with database.transaction() as session:
        post_debit(session, customer, tokens=5, kind="revoke", key="behind-the-cache")
    redis_client.script_flush()  # as a Redis restart would
    # Reserved against the stale cache (the reserve script is loaded again), refused by the
    # database, released (so is the release script).
    assert wallet.deduct(customer, FEATURE, 3, "after").status == INSUFFICIENT
    assert balances(database, customer) == (0, 0)
