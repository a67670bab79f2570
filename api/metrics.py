"""Prometheus text exposition (format 0.0.4): webhook counters and task/queue gauges."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import redis
from sqlalchemy import func, select

from core.clock import utcnow
from db.models import Task, TaskStatus
from db.session import Database
from orchestrator.routes import AGENTS
from orchestrator.transport import StreamTransport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TASK_STATUSES = (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.DONE, TaskStatus.DEAD)

Sample = tuple[Mapping[str, str], float]


class WebhookCounters:
    """Webhook outcomes of this process, safe to bump from the request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received = 0
        self.duplicate = 0
        self.rejected: Counter[str] = Counter()

    def count_received(self, *, duplicate: bool) -> None:
        with self._lock:
            self.received += 1
            self.duplicate += duplicate

    def count_rejected(self, reason: str) -> None:
        with self._lock:
            self.rejected[reason] += 1

    def snapshot(self) -> tuple[int, int, dict[str, int]]:
        with self._lock:
            return self.received, self.duplicate, dict(self.rejected)


@dataclass
class Exposition:
    """Metric families rendered in the Prometheus text format."""

    lines: list[str] = field(default_factory=list)

    def family(self, name: str, kind: str, help_text: str, samples: Iterable[Sample]) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.lines.append(f"{name}{_labels(labels)} {_number(value)}")

    def render(self) -> str:
        return "\n".join(self.lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def task_counts(database: Database) -> dict[tuple[str, str], int]:
    """Tasks per (agent, status), one GROUP BY."""
    stmt = select(Task.agent, Task.status, func.count()).group_by(Task.agent, Task.status)
    with database.transaction() as session:
        return {(agent, status): n for agent, status, n in session.execute(stmt)}


def oldest_due_pending_age(database: Database) -> float:
    """Seconds the longest-waiting due pending task has been waiting (0 when none)."""
    now = utcnow()
    stmt = select(func.min(Task.available_at)).where(
        Task.status == TaskStatus.PENDING, Task.available_at <= now
    )
    with database.transaction() as session:
        oldest = session.execute(stmt).scalar_one_or_none()
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


def render_metrics(
    database: Database, transport: StreamTransport, counters: WebhookCounters
) -> str:
    """The whole /metrics page."""
    counts = task_counts(database)
    agents = sorted(set(AGENTS) | {agent for agent, _ in counts})
    statuses = sorted(set(TASK_STATUSES) | {status for _, status in counts})
    out = Exposition()
    out.family(
        "moneta_tasks",
        "gauge",
        "Tasks in the database by agent and status.",
        (({"agent": a, "status": s}, counts.get((a, s), 0)) for a in agents for s in statuses),
    )
    out.family(
        "moneta_oldest_pending_task_age_seconds",
        "gauge",
        "How long the longest-waiting due pending task has waited.",
        [({}, oldest_due_pending_age(database))],
    )
    try:
        depths = {agent: transport.depth(agent) for agent in agents}
    except redis.RedisError:  # the database gauges are still worth a scrape
        depths = {}
    out.family("moneta_redis_up", "gauge", "1 if Redis answered this scrape.", [({}, bool(depths))])
    out.family(
        "moneta_queue_lag",
        "gauge",
        "Stream messages not yet delivered to the agent's consumer group.",
        (({"agent": a}, d["lag"]) for a, d in depths.items()),
    )
    out.family(
        "moneta_queue_unacked",
        "gauge",
        "Stream messages delivered to a consumer but not yet acknowledged.",
        (({"agent": a}, d["pending"]) for a, d in depths.items()),
    )
    received, duplicate, rejected = counters.snapshot()
    out.family(
        "moneta_webhooks_received_total",
        "counter",
        "Verified Stripe webhooks acknowledged by this process (new and duplicate).",
        [({}, received)],
    )
    out.family(
        "moneta_webhooks_duplicate_total",
        "counter",
        "Verified Stripe webhooks whose event was already in the inbox.",
        [({}, duplicate)],
    )
    out.family(
        "moneta_webhooks_rejected_total",
        "counter",
        "Stripe webhooks refused by this process, by reason.",
        (({"reason": r}, n) for r, n in sorted(rejected.items())),
    )
    return out.render()
