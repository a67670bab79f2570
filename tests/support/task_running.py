"""Run the queued tasks of chosen agents in-process, as their workers would, until none is due."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from agents.context import AgentHandler
from core.settings import Settings
from db.models import Task, TaskStatus
from db.session import Database
from orchestrator.runtime import TaskRunner


class AgentTasks:
    """A TaskRunner for the given agents; `drain()` runs every pending task of theirs."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        tools: dict[str, Any],
        handlers: dict[str, AgentHandler],
    ) -> None:
        self.database = database
        self.agents = tuple(handlers)
        self.runner = TaskRunner(database, settings, "test-runner", tools, handlers)

    def drain(self, rounds: int = 20) -> list[Task]:
        """Run due tasks (and the tasks they submit) until a round finds none; returns them."""
        ran: list[Task] = []
        for _ in range(rounds):
            due = self._pending()
            if not due:
                return ran
            for task_id in due:
                task = self.runner.claim(task_id)
                if task is not None:
                    self.runner.run(task)
                    ran.append(self.task(task_id))
        raise AssertionError(f"tasks still pending after {rounds} rounds: {self._pending()}")

    def task(self, task_id: int) -> Task:
        with self.database.transaction() as session:
            found = session.get(Task, task_id)
            assert found is not None
            return found

    def _pending(self) -> list[int]:
        with self.database.transaction() as session:
            return list(
                session.scalars(
                    select(Task.id)
                    .where(Task.agent.in_(self.agents), Task.status == TaskStatus.PENDING)
                    .order_by(Task.id)
                )
            )
