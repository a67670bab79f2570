"""Claim, run, finish or retry one task. Knows no agent by name: it is handed a handler."""

from __future__ import annotations

import logging
import random
import traceback
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Executable, Result, and_, bindparam, or_, select, update
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

_EFFECT_FREE = "moneta_effect_free"


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
        claimed = self.claim_batch([task_id])
        return claimed[0] if claimed else None

    def claim_batch(self, task_ids: list[int]) -> list[TaskInfo]:
        """`claim` for several tasks in one UPDATE; the ones ours to run, in the given order."""
        if not task_ids:
            return []
        with self.database.transaction() as session:
            return self._claim_in(session, task_ids)

    def claim_and_run(self, agent: str, task_ids: list[int]) -> int:
        """Claim and run one read's tasks of `agent`; how many were ours to run.

        An effect-free agent's claimable tasks are row-locked (`FOR UPDATE SKIP LOCKED`), run
        and marked done in one transaction: one commit and one row write per task, and no lease
        to lose (nobody else can claim a row this transaction holds). A failed one is claimed
        as usual in the same transaction, then takes the retry path. Any other agent's tasks
        are claimed together, then run one by one (`run`).
        """
        if not _is_effect_free(self.handlers.get(agent)):
            tasks = self.claim_batch(task_ids)
            self.run_batch(tasks)
            return len(tasks)
        with self.database.transaction() as session:
            tasks = self._lock_claimable(session, task_ids)
            results, failures = self._run_handlers(self._context(session), tasks)
            if failures:
                self._claim_in(session, [task.id for task, _exc in failures])
            if results:
                self._finish_many(session, results, locked=True)
        for task, exc in failures:
            self._fail(task, exc)
        return len(tasks)

    def _lock_claimable(self, session: Session, task_ids: list[int]) -> list[TaskInfo]:
        """The claimable tasks among `task_ids`, row-locked, as this attempt will see them."""
        if not task_ids:
            return []
        rows = _execute_on_connection(
            session,
            select(Task.id, Task.kind, Task.payload, Task.attempts, Task.max_attempts)
            .where(Task.id.in_(task_ids), _claimable(utcnow()))
            .with_for_update(skip_locked=True),
        ).all()
        by_id = {row.id: row for row in rows}
        return [
            TaskInfo(tid, r.kind, r.payload, r.attempts + 1, r.max_attempts)
            for tid in task_ids
            if (r := by_id.get(tid)) is not None
        ]

    def _claim_in(self, session: Session, task_ids: list[int]) -> list[TaskInfo]:
        if not task_ids:
            return []
        rows = _execute_on_connection(session, self._claim_statement(task_ids)).all()
        by_id = {row.id: row for row in rows}
        return [
            TaskInfo(tid, r.kind, r.payload, r.attempts, r.max_attempts)
            for tid in task_ids
            if (r := by_id.get(tid)) is not None
        ]

    def _claim_statement(self, task_ids: list[int]) -> Executable:
        now = utcnow()
        return (
            update(Task)
            .where(Task.id.in_(task_ids), _claimable(now))
            .values(
                status=TaskStatus.RUNNING,
                attempts=Task.attempts + 1,
                lease_owner=self.owner,
                lease_until=now + timedelta(seconds=self.settings.task_lease_seconds),
                updated_at=now,
            )
            .returning(Task.id, Task.kind, Task.payload, Task.attempts, Task.max_attempts)
        )

    def run_batch(self, tasks: list[TaskInfo]) -> list[Outcome]:
        """Run claimed tasks; their leases are kept alive until each is finished.

        Tasks of an effect-free handler (see `effect_free`) run together and finish in one
        statement and one commit; any other task runs and commits on its own (`run`).
        """
        with ExitStack() as leases:
            for task in tasks:
                leases.enter_context(self.leases.track(task.id, self.owner))
            batchable = [t for t in tasks if _is_effect_free(self.handlers.get(agent_for(t.kind)))]
            if len(batchable) < 2:
                batchable = []
            together = {t.id for t in batchable}
            outcomes = self._run_effect_free(batchable) if batchable else []
            return outcomes + [self.run(t) for t in tasks if t.id not in together]

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
            extras={"redis": self.tools["redis"]} if "redis" in self.tools else {},
        )

    def _finish(self, session: Any, task_id: int, result: dict[str, Any] | None) -> None:
        self._finish_many(session, {task_id: result})

    def _run_effect_free(self, tasks: list[TaskInfo]) -> list[Outcome]:
        """Run effect-free handlers, then mark every success done in one executemany UPDATE
        (still conditional on our lease) and one commit; failures take the usual retry path.

        If any row was no longer ours (lease lost), nothing commits and each task is run again
        on its own: an effect-free handler may safely run twice.
        """
        try:
            with self.database.transaction() as session:
                results, failures = self._run_handlers(self._context(session), tasks)
                if results:
                    self._finish_many(session, results)
        except LeaseLost:
            return [self.run(task) for task in tasks]
        done = [Outcome(task_id, TaskStatus.DONE) for task_id in results]
        return done + [self._fail(task, exc) for task, exc in failures]

    def _run_handlers(
        self, ctx: AgentContext, tasks: list[TaskInfo]
    ) -> tuple[dict[int, dict[str, Any] | None], list[tuple[TaskInfo, Exception]]]:
        """Effect-free handlers over `tasks` in one context: results, and what failed."""
        results: dict[int, dict[str, Any] | None] = {}
        failures: list[tuple[TaskInfo, Exception]] = []
        for task in tasks:
            try:
                results[task.id] = self.handlers[agent_for(task.kind)](ctx, task)
            except Exception as exc:
                failures.append((task, exc))
        return results, failures

    def _finish_many(
        self, session: Any, results: dict[int, dict[str, Any] | None], *, locked: bool = False
    ) -> None:
        """Mark tasks done in one executemany UPDATE: tasks we claimed (still ours to finish),
        or, `locked`, claimable rows this transaction holds (the attempt is counted here)."""
        now = utcnow()
        rows = [
            {"task_id": tid, "task_result": result, "now": now, "owner": self.owner}
            for tid, result in results.items()
        ]
        statement = _DONE_LOCKED if locked else _DONE_CLAIMED
        finished = session.connection().execute(statement, rows)
        if affected_rows(finished) != len(rows):
            raise LeaseLost(sorted(results))

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


def _done_statement(*conditions: ColumnElement[bool], **values: Any) -> Executable:
    """UPDATE tasks to done, one row per parameter set (task_id, task_result, now, owner);
    built once, so a finish pays for neither building it nor its cache key."""
    now = bindparam("now", type_=Task.finished_at.type)
    return (
        update(Task)
        .where(Task.id == bindparam("task_id"), *conditions)
        .values(
            status=TaskStatus.DONE,
            result=bindparam("task_result", type_=Task.result.type),
            finished_at=now,
            updated_at=now,
            lease_until=None,
            last_error=None,
            **values,
        )
    )


# A task we claimed, only while it is still ours.
_DONE_CLAIMED = _done_statement(
    Task.status == TaskStatus.RUNNING, Task.lease_owner == bindparam("owner")
)
# A claimable row this transaction holds locked: the attempt is counted here.
_DONE_LOCKED = _done_statement(attempts=Task.attempts + 1, lease_owner=bindparam("owner"))


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Pending and due, or running with an expired lease (its worker stalled or died)."""
    return or_(
        and_(Task.status == TaskStatus.PENDING, Task.available_at <= now),
        and_(Task.status == TaskStatus.RUNNING, Task.lease_until < now),
    )


def effect_free(handler: AgentHandler) -> AgentHandler:
    """Mark a handler that writes nothing and calls nothing outside: running it twice is
    harmless, so the runtime may finish its tasks in batches."""
    setattr(handler, _EFFECT_FREE, True)
    return handler


def _is_effect_free(handler: AgentHandler | None) -> bool:
    return bool(getattr(handler, _EFFECT_FREE, False))


def _execute_on_connection(session: Session, stmt: Executable) -> Result[Any]:
    """Run a task-row UPDATE on the session's connection, in its transaction.

    The ORM's bulk-UPDATE path (identity-map synchronisation) doubles the CPU of a claim plus
    finish, and no caller holds Task objects that it would keep in step.
    """
    return session.connection().execute(stmt)


def task_status(database: Database, task_id: int) -> str | None:
    with database.transaction() as session:
        return session.execute(select(Task.status).where(Task.id == task_id)).scalar_one_or_none()
