"""Long-running commands stop cleanly however many times they are told to.

A signal handler that took a lock deadlocked when a second signal came while the first
handler held it: a worker that had finished its work hung on a repeated SIGTERM (one run in
four with a burst of SIGTERMs, before `core.stop_signals`)."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
import redis

from core.settings import Settings
from orchestrator.transport import StreamTransport
from tests.support.processes import settings_env, start_moneta, stop
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

BURST = 200


def _told_to_stop_many_times(process: subprocess.Popen[bytes], log: Path) -> None:
    try:
        for _ in range(BURST):
            process.send_signal(signal.SIGTERM)
        code = process.wait(20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 20 s after {BURST} SIGTERMs:\n{log.read_text()[-3000:]}")
    finally:
        stop(process, signal.SIGKILL)
    assert code == 0, log.read_text()[-3000:]


def test_a_worker_told_to_stop_many_times_stops(
    settings: Settings, redis_client: redis.Redis, transport: StreamTransport, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    worker = start_moneta(
        ["worker", "--agents", "billing", "--concurrency", "1"], settings_env(settings), log
    )
    wait_until(  # its consumer group exists once it reads, after its handlers are in place
        lambda: redis_client.exists(transport.stream("billing")) == 1 or worker.poll() is not None,
        timeout=60,
        message="the worker to read its stream",
    )
    _told_to_stop_many_times(worker, log)


def test_the_scheduler_told_to_stop_many_times_stops(settings: Settings, tmp_path: Path) -> None:
    log = tmp_path / "scheduler.log"
    scheduler = start_moneta(["scheduler"], settings_env(settings), log)
    wait_until(
        lambda: "scheduled" in log.read_text() or scheduler.poll() is not None,
        timeout=60,
        message="the scheduler to schedule its jobs",
    )
    _told_to_stop_many_times(scheduler, log)
