"""Celery with the Redis broker, results ignored: `celery -A bench.peers.celery_app worker`."""

from __future__ import annotations

from celery import Celery

from bench.peers.common import mark_done, redis_url

app = Celery("bench_peers", broker=redis_url())
app.conf.update(
    task_ignore_result=True,
    worker_prefetch_multiplier=16,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="noop")
def noop() -> None:
    mark_done()


def enqueue(count: int) -> None:
    for _ in range(count):
        noop.delay()
