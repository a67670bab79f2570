"""What every peer's no-op task shares: the Redis it uses and the counter it bumps when done."""

from __future__ import annotations

import os
from functools import cache

import redis

REDIS_URL_ENV = "BENCH_PEER_REDIS_URL"
DONE_KEY = "bench-peer:done"


def redis_url() -> str:
    return os.environ.get(REDIS_URL_ENV, "redis://127.0.0.1:6379/13")


@cache
def _client(pid: int) -> redis.Redis:
    return redis.Redis.from_url(redis_url())


def mark_done() -> None:
    """The no-op task's only work: one INCR, which the bench polls to see the drain."""
    _client(os.getpid()).incr(DONE_KEY)
