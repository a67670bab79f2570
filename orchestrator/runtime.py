"""Claim, run, finish or retry one task. Knows no agent by name: it is handed a handler."""

from __future__ import annotations

import logging
import random
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Executable, Result, and_, or_, select, update
from sqlalchemy.orm import Session

from agents.context import AgentContext, AgentHandler, TaskInfo
from core.clock import utcnow
from core.errors import PermanentError
from core.settings import Settings
from db.models import Task, TaskStatus
from db.session import Database
from db.statements import affected_rows
from orchestrator.lease import LeaseKeeper
from orchestrator.outbox import submit
from orchestrator.routes import agent_for
from tools.email.mailer import Mailer
from tools.stripe.gateway import StripeGateway

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker took the task over (our lease expired): our effects must not commit."""


@dataclass
class Outcome:
    task_id: int
    status: str  # done | retry | dead | skipped
    error: str | None = None


def backoff_seconds(attempt: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(settings.retry_max_seconds, settings.retry_base_seconds * (2 ** (attempt - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


class TaskRunner:
    """Runs tasks for one worker identity (`owner`)."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        owner: str,
        tools: dict[str, Any],
        handlers: dict[str, AgentHandler],
        leases: LeaseKeeper | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.owner = owner
        self.tools = tools
        self.handlers = handlers
        self.leases = leases or LeaseKeeper(database, settings.task_lease_seconds)

    def claim(self, task_id: int) -> TaskInfo | None:
        """pending (and due) or lease-expired -> running, atomically; None if not ours to run."""
        now = utcnow()
        stmt = (
            update(Task)
            .where(
                Task.id == task_id,
                or_(
                    and_(Task.status == TaskStatus.PENDING, Task.available_at <= now),
                    and_(Task.status == TaskStatus.RUNNING, Task.lease_until < now),
                ),
            )
            .values(
                status=TaskStatus.RUNNING,
                attempts=Task.attempts + 1,
                lease_owner=self.owner,
                lease_until=now + timedelta(seconds=self.settings.task_lease_seconds),
                updated_at=now,
            )
            .returning(Task.kind, Task.payload, Task.attempts, Task.max_attempts)
        )
        with self.database.transaction() as session:
            row = _execute_on_connection(session, stmt).one_or_none()
        if row is None:
            return None
        return TaskInfo(task_id, row.kind, row.payload, row.attempts, row.max_attempts)

    def run(self, task: TaskInfo) -> Outcome:
        handler = self.handlers.get(agent_for(task.kind))
        try:
            if handler is None:
                raise PermanentError(f"this worker has no handler for {task.kind!r}")
            with self.leases.track(task.id, self.owner), self.database.transaction() as session:
                ctx = self._context(session)
                result = handler(ctx, task)
                self._finish(session, task.id, result)
            return Outcome(task.id, TaskStatus.DONE)
        except LeaseLost:
            log.warning("task %s: lease lost, effects rolled back", task.id)
            return Outcome(task.id, "skipped", "lease lost")
        except Exception as exc:
            return self._fail(task, exc)

    def _context(self, session: Any) -> AgentContext:
        def submit_here(
            kind: str,
            payload: dict[str, Any],
            *,
            dedupe_key: str | None = None,
            available_at: datetime | None = None,
        ) -> int | None:
            return submit(
                session,
                kind,
                payload,
                dedupe_key=dedupe_key,
                available_at=available_at,
                max_attempts=self.settings.task_max_attempts,
            )

        return AgentContext(
            session=session,
            database=self.database,
            settings=self.settings,
            # Absent only for agents that call nothing outside (noop, runtime tests).
            stripe=cast(StripeGateway, self.tools.get("stripe")),
            mailer=cast(Mailer, self.tools.get("mailer")),
            submit=submit_here,
            checkpointer_factory=self.tools.get("checkpointer_factory"),
        )

    def _finish(self, session: Any, task_id: int, result: dict[str, Any] | None) -> None:
        now = utcnow()
        done = _execute_on_connection(
            session,
            update(Task)
            .where(
                Task.id == task_id,
                Task.status == TaskStatus.RUNNING,
                Task.lease_owner == self.owner,
            )
            .values(
                status=TaskStatus.DONE,
                result=result,
                finished_at=now,
                updated_at=now,
                lease_until=None,
                last_error=None,
            ),
        )
        if affected_rows(done) != 1:
            raise LeaseLost(task_id)

    def _fail(self, task: TaskInfo, exc: Exception) -> Outcome:
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        permanent = isinstance(exc, PermanentError)
        dead = permanent or task.attempt >= task.max_attempts
        now = utcnow()
        values: dict[str, Any] = {
            "last_error": error[:4000],
            "lease_until": None,
            "updated_at": now,
        }
        if dead:
            values.update(status=TaskStatus.DEAD, finished_at=now)
        else:
            delay = backoff_seconds(task.attempt, self.settings)
            values.update(
                status=TaskStatus.PENDING,
                available_at=now + timedelta(seconds=delay),
                published_at=None,
            )
        with self.database.transaction() as session:
            _execute_on_connection(
                session,
                update(Task)
                .where(
                    Task.id == task.id,
                    Task.status == TaskStatus.RUNNING,
                    Task.lease_owner == self.owner,
                )
                .values(**values),
            )
        level = logging.ERROR if dead else logging.WARNING
        log.log(
            level,
            "task %s (%s) attempt %s failed: %s",
            task.id,
            task.kind,
            task.attempt,
            error,
            exc_info=not isinstance(exc, PermanentError),
        )
        return Outcome(task.id, TaskStatus.DEAD if dead else "retry", error)


def _execute_on_connection(session: Session, stmt: Executable) -> Result[Any]:
    """Run a task-row UPDATE on the session's connection, in its transaction.

    The ORM's bulk-UPDATE path (identity-map synchronisation) doubles the CPU of a claim plus
    finish, and no caller holds Task objects that it would keep in step.
    """
    return session.connection().execute(stmt)


def task_status(database: Database, task_id: int) -> str | None:
    with database.transaction() as session:
        return session.execute(select(Task.status).where(Task.id == task_id)).scalar_one_or_none()
