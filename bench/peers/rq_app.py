"""RQ: jobs on one queue, results not kept; workers run `rq worker -w rq.worker.SimpleWorker`."""

from __future__ import annotations

import redis
from rq import Queue

from bench.peers.common import mark_done, redis_url

QUEUE = "bench"


def noop() -> None:
    mark_done()


def enqueue(count: int) -> None:
    connection = redis.Redis.from_url(redis_url())
    queue = Queue(QUEUE, connection=connection)
    for _ in range(count):
        queue.enqueue(noop, result_ttl=0)
    connection.close()
