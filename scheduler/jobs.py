"""The scheduled work. Each job only submits a task, keyed by its scheduled slot, so any
number of schedulers firing the same slot create one task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from db.session import Database
from orchestrator.outbox import submit


@dataclass(frozen=True)
class ScheduledTask:
    """A cron schedule whose every slot becomes one task of `kind`."""

    name: str
    kind: str
    trigger: CronTrigger
    payload: Callable[[datetime], dict[str, Any]]
    misfire_grace_seconds: int


def previous_utc_day(fire_time: datetime) -> dict[str, Any]:
    """The day that ended before the slot: the one to aggregate."""
    return {"day": (fire_time.astimezone(UTC).date() - timedelta(days=1)).isoformat()}


def reconciliation_window(fire_time: datetime) -> dict[str, Any]:
    """Two days back from the slot: overlaps the previous run, so no gap if one is missed."""
    return {"since": int((fire_time - timedelta(days=2)).timestamp())}


def no_payload(_fire_time: datetime) -> dict[str, Any]:
    return {}


# Late usage events (up to 35 days old are accepted) still count toward a period for this long
# after it ends; overage is billed once, when the period is closed.
USAGE_CLOSE_GRACE = timedelta(days=1)


def usage_period_to_close(fire_time: datetime) -> dict[str, Any]:
    """The month that ended at least the grace before the slot (a repeat close is a no-op)."""
    settled = fire_time.astimezone(UTC) - USAGE_CLOSE_GRACE
    last_month_end = settled.replace(day=1) - timedelta(days=1)
    return {"period": last_month_end.strftime("%Y-%m")}


SCHEDULED_TASKS: tuple[ScheduledTask, ...] = (
    ScheduledTask(
        name="daily_aggregation",
        kind="analytics.daily",
        trigger=CronTrigger(hour=2, minute=0, timezone=UTC),
        payload=previous_utc_day,
        misfire_grace_seconds=3600,
    ),
    ScheduledTask(
        name="approval_expiry",
        kind="approvals.expire",
        trigger=CronTrigger(minute="*/15", timezone=UTC),
        payload=no_payload,
        misfire_grace_seconds=300,
    ),
    ScheduledTask(
        name="usage_alerts",
        kind="usage.evaluate_alerts",
        trigger=CronTrigger(minute="*/5", timezone=UTC),
        payload=no_payload,
        misfire_grace_seconds=120,
    ),
    ScheduledTask(
        name="usage_close_period",
        kind="usage.close_period",
        trigger=CronTrigger(hour=0, minute=30, timezone=UTC),
        payload=usage_period_to_close,
        misfire_grace_seconds=3600,
    ),
    ScheduledTask(
        name="ledger_check",
        kind="ledger.check",
        trigger=CronTrigger(hour=4, minute=0, timezone=UTC),
        payload=previous_utc_day,
        misfire_grace_seconds=3600,
    ),
    ScheduledTask(
        name="dunning_advance",
        kind="dunning.advance",
        trigger=CronTrigger(minute="*/15", timezone=UTC),
        payload=no_payload,
        misfire_grace_seconds=600,
    ),
    ScheduledTask(
        name="stripe_reconciliation",
        kind="stripe.reconcile",
        trigger=CronTrigger(hour=3, minute=30, timezone=UTC),
        payload=reconciliation_window,
        misfire_grace_seconds=3600,
    ),
)


def slot_dedupe_key(name: str, fire_time: datetime) -> str:
    """`job:<name>:<scheduled time, ISO, UTC>`: the same for every scheduler firing the slot."""
    return f"job:{name}:{fire_time.astimezone(UTC).isoformat()}"


def submit_for_slot(
    database: Database, task: ScheduledTask, fire_time: datetime, *, max_attempts: int
) -> int | None:
    """Submit the slot's task; None when another scheduler (or an earlier run) already did."""
    with database.transaction() as session:
        return submit(
            session,
            task.kind,
            task.payload(fire_time),
            dedupe_key=slot_dedupe_key(task.name, fire_time),
            max_attempts=max_attempts,
        )
