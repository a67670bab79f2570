"""The ceiling: raw Redis Streams with batched XADD, XREADGROUP and XACK, no task store."""

from __future__ import annotations

import time

import redis

from bench.peers.measure import PeerResult
from bench.report import BenchFailed

STREAM = "bench-peer:ceiling"
GROUP = "ceiling"
BATCH = 500


def measure(count: int, redis_url: str) -> PeerResult:
    client = redis.Redis.from_url(redis_url)
    client.delete(STREAM)
    client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    try:
        started = time.perf_counter()
        for first in range(0, count, BATCH):
            pipe = client.pipeline(transaction=False)
            for index in range(first, min(count, first + BATCH)):
                pipe.xadd(STREAM, {"t": str(index)})
            pipe.execute()
        enqueued = time.perf_counter()
        done = 0
        while done < count:
            reply = client.xreadgroup(GROUP, "c", {STREAM: ">"}, count=BATCH, block=1000)
            if not reply:
                raise BenchFailed(f"stream ran dry after {done} of {count} messages")
            # RESP2, the client's default protocol: [[stream, [(id, fields), ...]]].
            assert isinstance(reply, list)
            ids = [message_id for message_id, _fields in reply[0][1]]
            pipe = client.pipeline(transaction=False)
            pipe.xack(STREAM, GROUP, *ids)
            pipe.xdel(STREAM, *ids)
            pipe.execute()
            done += len(ids)
        drained = time.perf_counter()
    finally:
        client.delete(STREAM)
        client.close()
    return PeerResult(count / (enqueued - started), count / (drained - enqueued))
