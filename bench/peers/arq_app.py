"""arq tuned for throughput (many jobs in flight, no results kept):
`arq bench.peers.arq_app.WorkerSettings`."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from arq import create_pool
from arq.connections import RedisSettings

from bench.peers.common import mark_done, redis_url


async def noop(_ctx: dict[str, Any]) -> None:
    mark_done()


class WorkerSettings:
    functions: ClassVar[list[Any]] = [noop]
    redis_settings = RedisSettings.from_dsn(redis_url())
    max_jobs = 200
    keep_result = 0
    poll_delay = 0.05
    queue_read_limit = 1000
    handle_signals = True


def enqueue(count: int) -> None:
    async def push() -> None:
        pool = await create_pool(WorkerSettings.redis_settings)
        for _ in range(count):
            await pool.enqueue_job("noop")
        await pool.aclose()

    asyncio.run(push())
