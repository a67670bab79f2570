"""Dramatiq with its Redis broker and default middleware: `dramatiq bench.peers.dramatiq_app`."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from bench.peers.common import mark_done, redis_url

dramatiq.set_broker(RedisBroker(url=redis_url()))


@dramatiq.actor(max_retries=3)
def noop() -> None:
    mark_done()


def enqueue(count: int) -> None:
    for _ in range(count):
        noop.send()
