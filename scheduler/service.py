"""The scheduler process (`moneta scheduler`): cron slots become tasks; the relay runs often."""

from __future__ import annotations

import logging
from datetime import UTC

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core.stop_signals import StopSignals
from orchestrator.relay import relay_once
from orchestrator.wiring import Runtime
from scheduler.executor import SLOTTED, FireTimeExecutor, add_slotted_job
from scheduler.jobs import SCHEDULED_TASKS, ScheduledTask, submit_for_slot

log = logging.getLogger(__name__)


def new_scheduler() -> BackgroundScheduler:
    """A UTC scheduler whose runs coalesce (a missed slot runs once, as the latest slot)."""
    return BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(2), SLOTTED: FireTimeExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1},
    )


def schedule_task(scheduler: BaseScheduler, runtime: Runtime, task: ScheduledTask) -> None:
    """Submit `task` at each of its slots, keyed by the slot (see FireTimeExecutor)."""
    add_slotted_job(
        scheduler,
        submit_for_slot,
        task.trigger,
        args=[runtime.database, task],
        kwargs={"max_attempts": runtime.settings.task_max_attempts},
        id=task.name,
        name=task.name,
        misfire_grace_time=task.misfire_grace_seconds,
    )


def schedule_relay(scheduler: BaseScheduler, runtime: Runtime) -> None:
    """Re-publish due tasks every relay interval; safe to run anywhere, any number of times."""
    interval = runtime.settings.relay_interval_seconds
    scheduler.add_job(
        relay_once,
        IntervalTrigger(seconds=interval, timezone=UTC),
        args=[runtime.database, runtime.transport, runtime.settings],
        id="outbox_relay",
        name="outbox_relay",
        misfire_grace_time=max(1, int(interval)),
    )


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    scheduler = new_scheduler()
    for task in SCHEDULED_TASKS:
        schedule_task(scheduler, runtime, task)
    schedule_relay(scheduler, runtime)
    return scheduler


def run_scheduler(runtime: Runtime) -> None:
    """Run the jobs until SIGTERM/SIGINT, then let running jobs finish and return."""
    signals = StopSignals()
    # The relay runs every few seconds on the default executor: two INFO lines a run is noise.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = build_scheduler(runtime)
    scheduler.start()
    for job in scheduler.get_jobs():
        log.info("scheduled %s: next run %s", job.name, job.next_run_time)
    signals.wait()
    log.info("scheduler stopping")
    scheduler.shutdown(wait=True)
