"""An APScheduler 3 executor that tells each run its scheduled fire time.

APScheduler 3 calls a job without the time it was scheduled for (4.x adds that), and "now"
differs between schedulers; the scheduled slot is what makes two schedulers agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler

SLOTTED = "slotted"  # the executor alias under which schedulers register FireTimeExecutor


class _StampedJob:
    """One run's view of a job: the job's own keywords plus `fire_time`."""

    def __init__(self, job: Job, fire_time: datetime) -> None:
        self._job = job
        self.kwargs = {**job.kwargs, "fire_time": fire_time}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)

    def __repr__(self) -> str:
        return repr(self._job)


class FireTimeExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """Runs jobs in threads, calling each with `fire_time=` the run time it was scheduled for.

    Jobs on this executor must coalesce, so that each submission carries one run time.
    """

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        if len(run_times) != 1:
            raise ValueError(f"job {job.id!r} must coalesce to run on FireTimeExecutor")
        super()._do_submit_job(_StampedJob(job, run_times[0]), run_times)


def add_slotted_job(
    scheduler: BaseScheduler, func: Any, trigger: Any, *, kwargs: dict[str, Any], **options: Any
) -> Job:
    """Add `func` on the FireTimeExecutor: each run is called with `fire_time=` its slot."""
    # APScheduler checks the arguments when the job is added, before any slot exists: the
    # placeholder satisfies that check and is replaced on every run.
    return scheduler.add_job(
        func, trigger, kwargs={**kwargs, "fire_time": None}, executor=SLOTTED, **options
    )
